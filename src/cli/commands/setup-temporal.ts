import { Connection } from '@temporalio/client';
import { clientConnectionOptions } from '../../config/temporal';
import { loadConfig } from '../../config/load';
import { printNotices } from '../temporal';
import { SearchAttributesMissingError, registerSearchAttributes, searchAttributeStatus } from '../../runtime/search-attributes';
import { str, type Command } from '../command';
import { EXIT, FailureError, reach } from '../io';

export const setupTemporal: Command = {
  path: ['setup-temporal'],
  summary: 'register the search attributes incidentWorkflow needs on a Temporal cluster',
  help: `
Usage: probectl-notify setup-temporal [--namespace NS] [--dry-run]

Registers the custom search attributes incidentWorkflow sets (ProbectlTenant, ProbectlStatus,
ProbectlSeverity, ProbectlProviders, ProbectlExternalRefs) in the namespace, through the operator service
of TEMPORAL_ADDRESS (with the TLS / API key settings of docs/configuration.md). Attributes already present
with the same type are left alone; one present with another type is reported and fails the command. The
dev server (npm start, npm run demo, tests) registers them itself. Temporal Cloud does not accept this
call from ordinary API keys: create them with tcld or the Cloud UI instead.

  --namespace NS   default TEMPORAL_NAMESPACE
  --dry-run        only report what is missing (exit 1 when something is)

Example:
  TEMPORAL_ADDRESS=temporal.internal:7233 TEMPORAL_NAMESPACE=probectl probectl-notify setup-temporal
  → added    ProbectlTenant …   /   present  ProbectlTenant …
Exit: 0 all present, 1 a type conflict or the server refused, 69 Temporal unavailable.
`,
  options: { namespace: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run({ values, env, io }) {
    const config = loadConfig(env);
    printNotices(config, io);
    const namespace = str(values, 'namespace') ?? config.temporal.namespace;
    const where = `Temporal at ${config.temporal.address}`;
    const connection = await reach(where, () => Connection.connect({ ...clientConnectionOptions(config.temporal), connectTimeout: '5s' }));
    try {
      if (values['dry-run']) {
        const s = await reach(where, () => searchAttributeStatus(connection, namespace));
        for (const n of s.present) io.out(`present  ${n}`);
        for (const n of s.missing) io.out(`missing  ${n}`);
        for (const n of s.wrongType) io.err(`conflict ${n}`);
        return s.missing.length + s.wrongType.length === 0 ? EXIT.ok : EXIT.failure;
      }
      try {
        const r = await reach(where, () => registerSearchAttributes(connection, namespace));
        for (const n of r.present) io.out(`present  ${n}`);
        for (const n of r.added) io.out(`added    ${n}`);
        return EXIT.ok;
      } catch (err) {
        if (err instanceof SearchAttributesMissingError) throw new FailureError(err.message);
        throw err;
      }
    } finally {
      await connection.close();
    }
  },
};
