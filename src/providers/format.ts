/** Pure helpers the request builders and the configuration checks share. No I/O. */
import type { Severity } from '../shared/contract';
import { SEVERITIES } from '../shared/contract';

/**
 * A severity map option such as `critical:P1;warning:P3` (`;` or `,` between pairs). Pure; returns the
 * problems in words that repeat only the severity names and the allowed values, never other text.
 */
export function parseSeverityMap(raw: string, allowed: (value: string) => boolean): { map: Partial<Record<Severity, string>>; problems: string[] } {
  const map: Partial<Record<Severity, string>> = {};
  const problems: string[] = [];
  for (const pair of raw.split(/[;,]/).map((p) => p.trim()).filter(Boolean)) {
    const i = pair.indexOf(':');
    const sev = (i < 0 ? pair : pair.slice(0, i)).trim().toLowerCase();
    const value = i < 0 ? '' : pair.slice(i + 1).trim();
    if (!SEVERITIES.includes(sev as Severity)) {
      problems.push(`unknown severity in the map (expected ${SEVERITIES.join(', ')})`);
      continue;
    }
    if (!allowed(value)) {
      problems.push(`the value for ${sev} is not allowed`);
      continue;
    }
    map[sev as Severity] = value;
  }
  return { map, problems };
}

/** `Basic base64(user:password)`. */
export function basicAuth(credential: string): string {
  return `Basic ${Buffer.from(credential, 'utf8').toString('base64')}`;
}

/** Split a list option on `;` or `,`. */
export function listOption(raw: string | undefined): string[] {
  return (raw ?? '').split(/[;,]/).map((s) => s.trim()).filter(Boolean);
}

/** A plain-text description block shared by tickets and pages. */
export function describe(incident: { id: string; title: string; severity: string; summary?: string; source?: string; url?: string; openedAt: string; labels?: Record<string, string> }): string {
  const lines = [incident.summary || incident.title, '', `Severity: ${incident.severity}`, `Opened: ${incident.openedAt}`, `probectl incident: ${incident.id}`];
  if (incident.source) lines.push(`Source: ${incident.source}`);
  if (incident.url) lines.push(`Link: ${incident.url}`);
  for (const [k, v] of Object.entries(incident.labels ?? {})) lines.push(`${k}: ${v}`);
  return lines.join('\n');
}

/** `source` / `actor` of a resolution, as one line for notes and messages. */
export function resolvedBy(resolution: { source: string; actor?: string; reason?: string }): string {
  const who = resolution.actor ? `${resolution.actor} (via ${resolution.source})` : resolution.source;
  return `Resolved by ${who}${resolution.reason ? `: ${resolution.reason}` : ''}`;
}
