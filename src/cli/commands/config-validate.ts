import { loadConfig } from '../../config/load';
import type { Command } from '../command';
import { printNotices } from '../temporal';
import { EXIT } from '../io';

export const configValidate: Command = {
  path: ['config', 'validate'],
  summary: 'validate the configuration in the environment',
  help: `
Usage: probectl-notify config validate [--quiet]

Reads every setting (docs/configuration.md) exactly as the worker and the API do and reports the first
problem, naming the setting and the entry's position, never a secret. Nothing is contacted.

  --quiet   print nothing on success

Example:
  PROBECTL_NOTIFY_CONNECTORS='acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NG…' \\
    probectl-notify config validate
  → configuration ok: 1 connector(s) for 1 tenant(s), 0 API token(s), 0 inbound entr(y/ies), database set: no
`,
  options: { quiet: { type: 'boolean', short: 'q' } },
  async run({ values, env, io }) {
    const config = loadConfig(env); // ConfigError → 78
    printNotices(config, io);
    if (!values.quiet) {
      const tenants = new Set(config.connectors.all.map((c) => c.tenantId));
      io.out(
        `configuration ok: ${config.connectors.all.length} connector(s) for ${tenants.size} tenant(s), ` +
          `${config.apiTokens.length} API token(s), ${config.inbound.all.length} inbound entr(y/ies), ` +
          `database set: ${config.databaseUrl ? 'yes' : 'no'}, callback: ${config.callback ? 'yes' : 'no'}, ` +
          `temporal ${config.temporal.address} namespace ${config.temporal.namespace} task queue ${config.temporal.taskQueue} ` +
          `(${config.temporal.source}; TLS: ${config.temporal.tls ? 'yes' : 'no'}, API key: ${config.temporal.apiKey ? 'yes' : 'no'})`,
      );
    }
    return EXIT.ok;
  },
};
