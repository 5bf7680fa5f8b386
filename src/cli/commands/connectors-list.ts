import { maskHint } from '../../config/secret';
import type { ConnectorConfig } from '../../config/connectors';
import { loadConfig } from '../../config/load';
import { definitionOf } from '../../providers/registry';
import { connectorFor } from '../../providers/registry';
import { str, type Command } from '../command';
import { EXIT, type Io } from '../io';
import { line } from '../terminal';

/** What an operator may see of a connector: identity, host, options; secrets as a masked hint. */
export function describeConnector(c: ConnectorConfig) {
  const url = new URL(c.url.reveal());
  // Slack and Teams URLs are credentials: show the host only; others show host and path.
  const chat = definitionOf(c.provider).spec.kind === 'chat';
  return {
    tenant: c.tenantId,
    id: c.id,
    provider: c.provider,
    entry: c.position,
    endpoint: chat ? `${url.protocol}//${url.host}/… (${maskHint(c.url)})` : `${url.protocol}//${url.host}${url.pathname}`,
    credential: c.credential.isEmpty ? '(none)' : maskHint(c.credential),
    options: { ...c.options },
    implemented: connectorFor(c.provider) !== undefined,
  };
}

/** The table of `connectors list`, one heading per tenant. */
export function printConnectors(io: Io, rows: ReadonlyArray<ReturnType<typeof describeConnector>>): void {
  let current: string | undefined;
  for (const r of rows) {
    if (r.tenant !== current) {
      current = r.tenant;
      io.out(line`tenant ${current}`);
    }
    const opts = Object.entries(r.options).map(([k, v]) => line`${k}=${v}`).join(' ');
    io.out(`  ${line`${r.id.padEnd(14)} ${r.provider.padEnd(11)} ${r.endpoint}  credential ${r.credential}`}${opts ? `  ${opts}` : ''}${r.implemented ? '' : '  (not implemented)'}`);
  }
}

export const connectorsList: Command = {
  path: ['connectors', 'list'],
  summary: "list each tenant's connectors, secrets masked",
  help: `
Usage: probectl-notify connectors list [--tenant T] [--json]

Lists PROBECTL_NOTIFY_CONNECTORS by tenant: connector id, provider, endpoint and options. Credentials
show as <secret>…abcd (the last four characters of secrets of 16 or more characters, nothing of shorter
ones); a user:password credential as <secret>:<secret> (<secret>…abcd:<secret> for a user of 16 or more
characters: nothing of the password ever); Slack and Teams webhook URLs are credentials, so only their host is shown.

  --tenant T   only this tenant
  --json       one JSON document instead of the table

Example:
  probectl-notify connectors list --tenant acme
`,
  options: { tenant: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, env, io }) {
    const config = loadConfig(env);
    const tenant = str(values, 'tenant');
    const rows = config.connectors.all.filter((c) => tenant === undefined || c.tenantId === tenant).map(describeConnector);
    if (values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return EXIT.ok;
    }
    if (rows.length === 0) {
      io.out(tenant !== undefined ? line`no connectors for tenant ${tenant}` : 'no connectors configured (PROBECTL_NOTIFY_CONNECTORS is unset: nothing is ever sent)');
      return EXIT.ok;
    }
    printConnectors(io, rows);
    return EXIT.ok;
  },
};
