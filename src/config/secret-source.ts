import { readFileSync } from 'node:fs';
import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

/**
 * A secret-bearing setting from NAME or NAME_FILE — exactly one of the two. The file variant keeps
 * secrets out of the process environment (Docker/Kubernetes secrets) and, for list settings, allows a
 * JSON form that needs no separators. One trailing newline is removed.
 */
export function secretSetting(env: Env, name: string): string | undefined {
  const direct = env[name];
  const path = env[`${name}_FILE`];
  const hasDirect = direct !== undefined && direct.trim() !== '';
  const hasFile = path !== undefined && path.trim() !== '';
  if (hasDirect && hasFile) throw new ConfigError(name, [`set either ${name} or ${name}_FILE, not both`]);
  if (!hasFile) return direct;
  try {
    return readFileSync(path!.trim(), 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}_FILE`, [`cannot read ${JSON.stringify(path!.trim())} (${code})`]);
  }
}
