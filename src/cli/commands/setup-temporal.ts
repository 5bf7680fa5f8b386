import { Connection } from '@temporalio/client';
import { loadConfig } from '../../config/load';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { str, type Command } from '../command';
import { EXIT, FailureError, reach } from '../io';

/** temporal.api.enums.v1.IndexedValueType by SearchAttributeType. */
const INDEXED_VALUE_TYPE: Record<string, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };
const TYPE_NAME = Object.fromEntries(Object.entries(INDEXED_VALUE_TYPE).map(([k, v]) => [v, k]));

export const setupTemporal: Command = {
  path: ['setup-temporal'],
  summary: 'register the search attributes incidentWorkflow needs on a Temporal cluster',
  help: `
Usage: probectl-notify setup-temporal [--namespace NS] [--dry-run]

Registers the custom search attributes incidentWorkflow sets (ProbectlTenant, ProbectlStatus,
ProbectlSeverity, ProbectlProviders, ProbectlExternalRefs) in the namespace, through the operator service
of TEMPORAL_ADDRESS. Attributes already present with the same type are left alone; one present with
another type is reported and fails the command. The dev server (npm start, npm run demo, tests) registers
them itself. Temporal Cloud does not allow this through the operator service: add them with tcld or the
Cloud UI instead.

  --namespace NS   default TEMPORAL_NAMESPACE
  --dry-run        only report what is missing

Example:
  TEMPORAL_ADDRESS=temporal.internal:7233 TEMPORAL_NAMESPACE=probectl probectl-notify setup-temporal
Exit: 0 all present, 1 a type conflict or the server refused, 69 Temporal unavailable.
`,
  options: { namespace: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run({ values, env, io }) {
    const config = loadConfig(env);
    const namespace = str(values, 'namespace') ?? config.temporal.namespace;
    const wanted = SEARCH_ATTRIBUTES;
    const connection = await reach(`Temporal at ${config.temporal.address}`, () => Connection.connect({ address: config.temporal.address, connectTimeout: '5s' }));
    try {
      const existing = await reach(`Temporal at ${config.temporal.address}`, () => connection.operatorService.listSearchAttributes({ namespace }));
      const custom = (existing.customAttributes ?? {}) as Record<string, number>;
      const missing: Record<string, number> = {};
      const conflicts: string[] = [];
      for (const a of wanted) {
        const type = INDEXED_VALUE_TYPE[a.type];
        if (type === undefined) throw new FailureError(`unknown search attribute type ${a.type} for ${a.name}`);
        const have = custom[a.name];
        if (have === undefined) missing[a.name] = type;
        else if (Number(have) !== type) conflicts.push(`${a.name} is ${TYPE_NAME[Number(have)] ?? have}, expected ${a.type}`);
        else io.out(`present  ${a.name} (${a.type})`);
      }
      for (const c of conflicts) io.err(`conflict ${c}`);
      if (Object.keys(missing).length > 0) {
        if (values['dry-run']) {
          for (const name of Object.keys(missing)) io.out(`missing  ${name} (${TYPE_NAME[missing[name]!]})`);
        } else {
          await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
          for (const name of Object.keys(missing)) io.out(`added    ${name} (${TYPE_NAME[missing[name]!]})`);
        }
      }
      if (conflicts.length > 0) return EXIT.failure;
      return values['dry-run'] && Object.keys(missing).length > 0 ? EXIT.failure : EXIT.ok;
    } finally {
      await connection.close();
    }
  },
};
