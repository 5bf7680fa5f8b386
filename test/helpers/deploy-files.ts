/**
 * The files in deploy/ as the tests read them: the Grafana dashboard, the Prometheus alert rules, every PromQL
 * expression they hold (with where it came from), and promtool from scripts/ensure-promtool.sh.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'probectl-notify.json');
export const ALERTS = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
export const ALERT_TESTS = join(ROOT, 'deploy', 'prometheus', 'alerts.test.yml');
export const PROMETHEUS_EXAMPLE = join(ROOT, 'deploy', 'prometheus', 'prometheus.example.yml');

/** promtool's path; installs Debian's prometheus package when missing. Throws (never skips) without it. */
export function promtool(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-promtool.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`no promtool (scripts/ensure-promtool.sh): ${r.stderr.slice(-2000)}`);
  return r.stdout.trim();
}

export function runPromtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(promtool(), args, { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface Expression {
  /** Where it is, e.g. `dashboard panel 12 "Pollers" target A` or `alert ProbectlNotifyNoWorker`. */
  where: string;
  expr: string;
}

type Json = any;

export function dashboard(): Json {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8'));
}

/** Every panel, rows' collapsed children included. */
export function dashboardPanels(d: Json = dashboard()): Json[] {
  return (d.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
}

/** Panel targets and the metric selectors of query variables (`label_values(<selector>, label)`). */
export function dashboardExpressions(d: Json = dashboard()): Expression[] {
  const out: Expression[] = [];
  for (const p of dashboardPanels(d)) {
    for (const t of (p.targets as Json[] | undefined) ?? []) out.push({ where: `dashboard panel ${p.id} "${p.title}" target ${t.refId}`, expr: t.expr });
  }
  for (const v of (d.templating?.list as Json[] | undefined) ?? []) {
    if (v.type !== 'query') continue;
    const q: string = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(q.trim());
    if (!m) throw new Error(`dashboard variable ${v.name}: only label_values(<selector>, <label>) queries are checked, got ${q}`);
    out.push({ where: `dashboard variable ${v.name}`, expr: m[1]! });
  }
  return out;
}

export function alertRules(): Array<{ alert: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }> {
  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules);
}

export function alertExpressions(): Expression[] {
  return alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));
}

/**
 * A dashboard expression as Prometheus would receive it from Grafana: `$__rate_interval` and the other
 * interval variables become a duration, template variables a regex that matches anything.
 */
export function asPrometheusQuery(expr: string): string {
  return expr.replace(/\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}/g, '5m').replace(/\$\{[^}]*\}|\$\w+/g, '.*');
}
