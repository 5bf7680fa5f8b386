/**
 * deploy/prometheus checked by Prometheus' own tool: the rules load (`promtool check rules`), their unit tests
 * pass (`promtool test rules`: every alert fires on a failing synthetic series and stays silent on a healthy
 * one), and the example configuration that loads them is valid (`promtool check config`). promtool comes from
 * scripts/ensure-promtool.sh; without it these tests fail.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ALERT_TESTS, ALERTS, PROMETHEUS_EXAMPLE, alertRules, runPromtool } from '../helpers/deploy-files';

describe('deploy/prometheus', () => {
  test('promtool check rules deploy/prometheus/alerts.yml', () => {
    const r = runPromtool(['check', 'rules', ALERTS]);
    expect(r.output).toMatch(new RegExp(`SUCCESS: ${alertRules().length} rules found`));
    expect(r.status).toBe(0);
  });

  test('promtool test rules deploy/prometheus/alerts.test.yml', () => {
    const r = runPromtool(['test', 'rules', ALERT_TESTS]);
    expect(r.output).toContain('SUCCESS');
    expect(r.output).not.toContain('FAILED');
    expect(r.status).toBe(0);
  });

  test('every alert has a test where it fires and one where it stays silent', () => {
    const doc = parse(readFileSync(ALERT_TESTS, 'utf8')) as {
      rule_files: string[];
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    expect(doc.rule_files).toEqual(['alerts.yml']);
    const checks = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    const missing: string[] = [];
    for (const { alert } of alertRules()) {
      const mine = checks.filter((c) => c.alertname === alert);
      if (!mine.some((c) => (c.exp_alerts ?? []).length > 0)) missing.push(`${alert}: no test where it fires`);
      if (!mine.some((c) => (c.exp_alerts ?? []).length === 0)) missing.push(`${alert}: no test where it stays silent`);
    }
    expect(missing).toEqual([]);
  });

  test('every alert has a severity, a summary and a description', () => {
    const bad = alertRules().filter((r) => !['critical', 'warning'].includes(r.labels?.severity ?? '') || !r.annotations?.summary || !r.annotations?.description);
    expect(bad.map((r) => r.alert)).toEqual([]);
  });

  test('the jobs the rules select are the example configuration\'s scrape jobs, which promtool accepts', () => {
    const config = parse(readFileSync(PROMETHEUS_EXAMPLE, 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string }> };
    const jobs = config.scrape_configs.map((s) => s.job_name);
    expect(config.rule_files).toEqual(['alerts.yml']);
    const selected = new Set<string>();
    for (const r of alertRules()) {
      for (const m of r.expr.matchAll(/\bjob\s*=\s*"([^"]+)"/g)) selected.add(m[1]!);
      for (const m of r.expr.matchAll(/\bjob\s*=~\s*"([^"]+)"/g)) for (const j of m[1]!.split('|')) selected.add(j);
    }
    expect(selected.size).toBeGreaterThan(0);
    expect([...selected].filter((j) => !jobs.includes(j))).toEqual([]);
    const r = runPromtool(['check', 'config', PROMETHEUS_EXAMPLE]);
    expect(r.output).toContain('is valid prometheus config file syntax');
    expect(r.status).toBe(0);
  });
});
