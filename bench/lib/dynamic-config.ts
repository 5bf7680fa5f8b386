/**
 * The dynamic config file a bench run's cluster server reads (bench/lib/temporal.ts): the shipped
 * deploy/temporal/dynamicconfig.yaml, with eager activity dispatch set as asked and the `--dynamic-config` settings
 * added. Pure: text in, text out.
 */
import { parse, stringify } from 'yaml';

export const EAGER_ACTIVITIES = 'system.enableActivityEagerExecution';

type DynamicConfig = Record<string, Array<{ value: unknown; constraints?: Record<string, unknown> }>>;

/** `key=value`, the value a plain scalar read by YAML's own rules (as the file's values are: `5`, `.5`, `true`, `1s`). */
function setting(kv: string): [string, unknown] {
  const eq = kv.indexOf('=');
  const key = kv.slice(0, eq).trim();
  const text = kv.slice(eq + 1).trim();
  if (eq <= 0 || !/^[A-Za-z][\w.]*$/.test(key) || !/^[\w.:+-]+$/.test(text)) throw new Error(`--dynamic-config=${kv}: expected key=value with a plain value`);
  return [key, parse(text) as unknown];
}

/**
 * The file's text: `shipped` parsed, its eager-dispatch key set to `eagerActivities` (removed when false, the server's
 * default), then `extra` added. A key `shipped` sets already, or the eager key, is refused in `extra`: the file would no
 * longer be the shipped one plus what the command line says.
 */
export function clusterDynamicConfig(shipped: string, eagerActivities: boolean, extra: readonly string[]): string {
  const doc = (parse(shipped) ?? {}) as DynamicConfig;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('deploy/temporal/dynamicconfig.yaml is not a mapping');
  const given = new Set(Object.keys(doc));
  delete doc[EAGER_ACTIVITIES];
  if (eagerActivities) doc[EAGER_ACTIVITIES] = [{ value: true }];
  for (const kv of extra) {
    const [key, value] = setting(kv);
    if (key === EAGER_ACTIVITIES) throw new Error(`--dynamic-config=${kv}: use --eager-activities=on|off`);
    if (given.has(key)) throw new Error(`--dynamic-config=${kv}: deploy/temporal/dynamicconfig.yaml sets ${key} already`);
    if (Object.hasOwn(doc, key)) throw new Error(`--dynamic-config=${kv}: ${key} is given twice`);
    doc[key] = [{ value }];
  }
  return `# deploy/temporal/dynamicconfig.yaml as a bench run uses it (eager activities ${eagerActivities ? 'on' : 'off'}${extra.length ? `; ${extra.join(', ')}` : ''})\n${stringify(doc)}`;
}
