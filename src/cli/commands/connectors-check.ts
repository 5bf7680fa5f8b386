import { definitionOf } from '../../providers/registry';
import { secretsOf } from '../../providers/types';
import { scrub } from '../../http/scrub';
import type { HttpClient } from '../../http/client';
import type { ConnectorConfig } from '../../config/connectors';
import { loadConfig } from '../../config/load';
import { str, type Command } from '../command';
import { cliHttpClient } from '../http';
import { EXIT, FailureError, type Io } from '../io';
import { line } from '../terminal';

export interface CheckResult {
  tenant: string;
  connector: string;
  provider: string;
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

/** GET on the endpoint's host root: proves DNS, TCP, TLS (certificate validated) and an HTTP answer. Sends no credential. */
async function reachability(http: HttpClient, c: ConnectorConfig) {
  const url = new URL(c.url.reveal());
  try {
    const res = await http.send({ method: 'GET', url: `${url.origin}/`, headers: { accept: '*/*' } }, secretsOf(c));
    return { name: 'reachable', ok: true, detail: `${url.host} answered HTTP ${res.status}${url.protocol === 'https:' ? ' over TLS (certificate valid)' : ' (plain http, loopback)'}` };
  } catch (err) {
    return { name: 'reachable', ok: false, detail: `${url.host}: ${scrub((err as Error).message, secretsOf(c))}` };
  }
}

export async function checkConnector(http: HttpClient, c: ConnectorConfig): Promise<CheckResult> {
  const checks = [await reachability(http, c)];
  const own = definitionOf(c.provider).liveCheck;
  if (own && checks[0]!.ok) checks.push(await own(http, c));
  // A provider's own check may quote its answer (issue type names, say): scrubbed here, as every activity failure is.
  for (const x of checks) x.detail = scrub(x.detail, secretsOf(c));
  return { tenant: c.tenantId, connector: c.id, provider: c.provider, ok: checks.every((x) => x.ok), checks };
}

/** One connector's checks on one line; a detail may quote the provider's answer, so each value is {@link line}d. */
export function printCheck(io: Io, r: CheckResult): void {
  io.out(`${line`${r.tenant}/${r.connector} (${r.provider}): `}${r.ok ? 'ok' : 'FAILED'} — ${r.checks.map((x) => line`${x.name}: ${x.detail}`).join('; ')}`);
}

export const connectorsCheck: Command = {
  path: ['connectors', 'check'],
  summary: 'opt-in reachability check of connectors (nothing is paged or posted)',
  help: `
Usage: probectl-notify connectors check [--tenant T] [--connector ID] [--json]

For each selected connector (all by default), without paging, posting or creating anything:
  reachable        a GET on the endpoint's host root (https://<host>/), no credential sent: proves DNS,
                   the TCP connection, the TLS certificate (always validated) and that an HTTP server
                   answers. Any HTTP status counts; it does not prove the credential.
  jira createmeta  Jira only: GET …/rest/api/2/issue/createmeta/<project>/issuetypes with the credential:
                   the credential is accepted, the project exists and offers the configured issue type.
The configuration itself (required fields, option values) is validated first, as in config validate.
To prove a credential end to end, use: probectl-notify connectors test.

  --tenant T       only this tenant's connectors
  --connector ID   only this connector id (with --tenant when ids repeat across tenants)
  --json           JSON instead of text

Example:
  probectl-notify connectors check --tenant acme
  → acme/jira (jira): ok — reachable: acme.atlassian.net answered HTTP 200 over TLS (certificate valid); jira createmeta: project OPS offers issue type Task
Exit: 0 every check passed, 1 one failed.
`,
  options: { tenant: { type: 'string' }, connector: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, env, io }) {
    const config = loadConfig(env);
    const tenant = str(values, 'tenant');
    const id = str(values, 'connector');
    const selected = config.connectors.all.filter((c) => (tenant === undefined || c.tenantId === tenant) && (id === undefined || c.id === id));
    if (selected.length === 0) throw new FailureError('no connector matches (see: probectl-notify connectors list)');
    const http = cliHttpClient(config, env, Math.min(config.httpTimeoutMs, 10_000));
    try {
      const results: CheckResult[] = [];
      for (const c of selected) {
        const r = await checkConnector(http, c);
        results.push(r);
        if (!values.json) printCheck(io, r);
      }
      if (values.json) io.out(JSON.stringify(results, null, 2));
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
    } finally {
      await http.close();
    }
  },
};
