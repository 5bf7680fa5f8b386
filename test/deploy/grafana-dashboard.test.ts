/**
 * deploy/grafana/probectl-notify.json is a Grafana dashboard (a lightweight structural check: schema version,
 * template variables, panels with a Prometheus datasource and targets, a grid that fits) whose every query
 * Prometheus' own parser accepts (each expression, as Grafana sends it, checked by `promtool check rules` as a
 * recording rule).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { asPrometheusQuery, dashboard, dashboardExpressions, dashboardPanels, runPromtool } from '../helpers/deploy-files';

type Json = any;

const BUILT_IN = new Set(['__rate_interval', '__interval', '__range', '__all']);

describe('deploy/grafana/probectl-notify.json', () => {
  const d = dashboard();
  const panels = dashboardPanels(d);
  const variables: Json[] = d.templating?.list ?? [];

  test('dashboard fields: schemaVersion, uid, title, time range, no instance id', () => {
    expect(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 36).toBe(true);
    expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(typeof d.title).toBe('string');
    expect(d.time).toEqual({ from: expect.any(String), to: expect.any(String) });
    expect(d.id).toBeNull();
    expect(Array.isArray(d.panels) && d.panels.length > 0).toBe(true);
  });

  test('a Prometheus datasource variable, and every variable an expression uses is defined', () => {
    const ds = variables.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const defined = new Set(variables.map((v) => v.name as string));
    const used = new Set<string>();
    for (const { expr } of dashboardExpressions(d)) for (const m of expr.matchAll(/\$\{?(\w+)/g)) used.add(m[1]!);
    for (const v of variables.filter((x) => x.type === 'query')) {
      expect(v.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const m of JSON.stringify(v.query).matchAll(/\$\{?(\w+)/g)) used.add(m[1]!);
    }
    expect([...used].filter((u) => !defined.has(u) && !BUILT_IN.has(u))).toEqual([]);
  });

  test('panels: unique ids, a grid that fits 24 columns, Prometheus targets with unique refIds and an expression', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const problems: string[] = [];
    for (const p of panels) {
      const where = `panel ${p.id} "${p.title}"`;
      const g = p.gridPos ?? {};
      if (![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) problems.push(`${where}: gridPos ${JSON.stringify(g)}`);
      if (!p.title) problems.push(`${where}: no title`);
      if (p.type === 'row') continue;
      if (!['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'heatmap'].includes(p.type)) problems.push(`${where}: type ${p.type}`);
      if (p.datasource?.type !== 'prometheus' || p.datasource?.uid !== '${datasource}') problems.push(`${where}: datasource ${JSON.stringify(p.datasource)}`);
      const targets: Json[] = p.targets ?? [];
      if (targets.length === 0) problems.push(`${where}: no targets`);
      const refs = targets.map((t) => t.refId);
      if (new Set(refs).size !== refs.length || refs.some((r) => !/^[A-Z]$/.test(r))) problems.push(`${where}: refIds ${refs.join(',')}`);
      for (const t of targets) if (typeof t.expr !== 'string' || !t.expr.trim()) problems.push(`${where}: target ${t.refId} has no expr`);
    }
    expect(problems).toEqual([]);
    // Panels of one row do not overlap.
    const cells = new Set<string>();
    for (const p of panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const k = `${x},${y}`;
          expect({ panel: p.id, cell: k, taken: cells.has(k) }).toEqual({ panel: p.id, cell: k, taken: false });
          cells.add(k);
        }
      }
    }
  });

  test('every query parses as PromQL (promtool, as a recording rule)', () => {
    const exprs = dashboardExpressions(d);
    const dir = mkdtempSync(join(tmpdir(), 'probectl-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: asPrometheusQuery(e.expr) })) }] }));
      const r = runPromtool(['check', 'rules', file]);
      expect(r.output).toContain(`SUCCESS: ${exprs.length} rules found`);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
