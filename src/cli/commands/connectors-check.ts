import { authHeader, siteBase, DEFAULT_ISSUE_TYPE } from '../../activities/providers/jira/build';
import { secretsOf } from '../../activities/providers/types';
import { scrub } from '../../activities/http/scrub';
import type { HttpClient } from '../../activities/http/client';
import type { ConnectorConfig } from '../../config/connectors';
import { loadConfig } from '../../config/load';
import { str, type Command } from '../command';
import { cliHttpClient } from '../http';
import { EXIT, FailureError } from '../io';

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

/** Jira: the project exists for this credential and offers the configured issue type (create metadata). */
async function jiraCreateMeta(http: HttpClient, c: ConnectorConfig) {
  const project = c.options.project ?? '';
  const wanted = c.options.issuetype || DEFAULT_ISSUE_TYPE;
  const url = `${siteBase(c.url.reveal())}/rest/api/2/issue/createmeta/${encodeURIComponent(project)}/issuetypes?maxResults=200`;
  try {
    const res = await http.send({ method: 'GET', url, headers: { authorization: authHeader(c.credential.reveal()), accept: 'application/json' } }, secretsOf(c));
    if (res.status === 401 || res.status === 403) return { name: 'jira createmeta', ok: false, detail: `the credential was refused (HTTP ${res.status})` };
    if (res.status === 404) return { name: 'jira createmeta', ok: false, detail: `project ${project} not found, or not visible to this credential (HTTP 404)` };
    if (res.status !== 200) return { name: 'jira createmeta', ok: false, detail: `unexpected HTTP ${res.status}` };
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return { name: 'jira createmeta', ok: false, detail: 'the answer is not JSON' };
    }
    const list = (body as { values?: unknown; issueTypes?: unknown }).values ?? (body as { issueTypes?: unknown }).issueTypes;
    const names = Array.isArray(list) ? list.map((t) => (t as { name?: unknown }).name).filter((n): n is string => typeof n === 'string') : [];
    return names.includes(wanted)
      ? { name: 'jira createmeta', ok: true, detail: `project ${project} offers issue type ${wanted}` }
      : { name: 'jira createmeta', ok: false, detail: `project ${project} does not offer issue type ${wanted} (it offers: ${names.slice(0, 10).join(', ') || 'none'})` };
  } catch (err) {
    return { name: 'jira createmeta', ok: false, detail: scrub((err as Error).message, secretsOf(c)) };
  }
}

export async function checkConnector(http: HttpClient, c: ConnectorConfig): Promise<CheckResult> {
  const checks = [await reachability(http, c)];
  if (c.provider === 'jira' && checks[0]!.ok) checks.push(await jiraCreateMeta(http, c));
  return { tenant: c.tenantId, connector: c.id, provider: c.provider, ok: checks.every((x) => x.ok), checks };
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
    const selected = config.connectors.all.filter((c) => (!tenant || c.tenantId === tenant) && (!id || c.id === id));
    if (selected.length === 0) throw new FailureError('no connector matches (see: probectl-notify connectors list)');
    const http = cliHttpClient(config, env, Math.min(config.httpTimeoutMs, 10_000));
    try {
      const results: CheckResult[] = [];
      for (const c of selected) {
        const r = await checkConnector(http, c);
        results.push(r);
        if (!values.json) io.out(`${r.tenant}/${r.connector} (${r.provider}): ${r.ok ? 'ok' : 'FAILED'} — ${r.checks.map((x) => `${x.name}: ${x.detail}`).join('; ')}`);
      }
      if (values.json) io.out(JSON.stringify(results, null, 2));
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
    } finally {
      await http.close();
    }
  },
};
