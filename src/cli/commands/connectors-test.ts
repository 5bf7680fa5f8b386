import { connectorFor } from '../../providers/registry';
import { secretsOf } from '../../providers/types';
import { scrub } from '../../http/scrub';
import { loadConfig } from '../../config/load';
import type { Incident } from '../../shared/contract';
import { required, type Command } from '../command';
import { cliHttpClient } from '../http';
import { EXIT, FailureError, UsageError } from '../io';
import { line, oneLine } from '../terminal';

export const connectorsTest: Command = {
  path: ['connectors', 'test'],
  summary: 'send one real test page/post/ticket through one connector, then resolve it',
  help: `
Usage: probectl-notify connectors test --tenant T --connector ID --yes [--severity S]

Sends a real test incident through one connector — PagerDuty/Opsgenie page the on-call person, Slack
and Teams post, ServiceNow and Jira open a ticket — and then resolves (closes) it, directly, without a
workflow. The incident id is probectl-notify-test-<timestamp>, the title says it is a test. Opt-in: nothing
is sent without --yes.

  --tenant T       the connector's tenant
  --connector ID   the connector id (see: probectl-notify connectors list)
  --severity S     critical | error | warning | info (default info; min_severity is not applied)
  --yes            really send it

Example:
  probectl-notify connectors test --tenant acme --connector pagerduty --yes
  → opened on acme/pagerduty: probectl-probectl-notify-test-1732700000000
  → resolved on acme/pagerduty
Exit: 0 opened and resolved, 1 the provider refused (the reason is printed, scrubbed of secrets).
`,
  options: { tenant: { type: 'string' }, connector: { type: 'string' }, severity: { type: 'string' }, yes: { type: 'boolean' } },
  async run({ values, env, io }) {
    const tenant = required(values, 'tenant', connectorsTest);
    const id = required(values, 'connector', connectorsTest);
    const severity = (values.severity as string | undefined) ?? 'info';
    if (!['critical', 'error', 'warning', 'info'].includes(severity)) throw new UsageError('--severity must be critical, error, warning or info');
    if (!values.yes) throw new UsageError(`this sends a real test through ${tenant}/${id} (a page, post or ticket); add --yes to do it`);
    const config = loadConfig(env);
    const c = config.connectors.find(tenant, id);
    if (!c) throw new FailureError(`tenant ${tenant} has no connector ${id} (see: probectl-notify connectors list)`);
    const impl = connectorFor(c.provider);
    if (!impl) throw new FailureError(`${c.provider} has no connector implementation yet`);
    const at = Date.now();
    const incident: Incident = {
      id: `probectl-notify-test-${at}`,
      tenantId: tenant,
      title: 'probectl-notify connector test — safe to ignore, resolves itself',
      severity: severity as Incident['severity'],
      summary: `A test sent by the probectl-notify CLI (connectors test) through connector ${id}. It is resolved right away.`,
      source: 'probectl-notify-cli',
      openedAt: new Date(at).toISOString(),
    };
    const http = cliHttpClient(config, env);
    const ctx = { connector: c, http, attempt: 1 };
    const reason = (err: unknown) => oneLine(scrub(err instanceof Error ? err.message : String(err), secretsOf(c)));
    try {
      let opened;
      try {
        opened = await impl.open(ctx, incident);
      } catch (err) {
        throw new FailureError(`open on ${tenant}/${id} failed: ${reason(err)}`);
      }
      // The references come from the provider's answer: scrubbed, as the open activity scrubs them.
      const ref = scrub(opened.externalRef, secretsOf(c));
      io.out(`${line`opened on ${tenant}/${id}: ${ref}`}${opened.externalUrl ? line` ${scrub(opened.externalUrl, secretsOf(c))}` : ''}`);
      try {
        await impl.resolve(ctx, incident, { externalRef: opened.externalRef }, { source: 'api', actor: 'probectl-notify connectors test', reason: 'connector test' });
      } catch (err) {
        throw new FailureError(`resolve on ${tenant}/${id} failed (close ${oneLine(ref)} by hand): ${reason(err)}`);
      }
      io.out(`resolved on ${tenant}/${id}`);
      return EXIT.ok;
    } finally {
      await http.close();
    }
  },
};
