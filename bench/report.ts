/** The markdown table of one benchmark run (bench/results/<date>.md; docs/benchmarks.md quotes it). */
import type { Summary } from './lib/stats';

type Any = any;

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${v}`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(1)}×`);
const mb = (v: number | undefined) => (v === undefined ? '–' : `${v} MB`);
const kb = (v: number | undefined) => (v === undefined ? '–' : `${(v / 1024).toFixed(1)} KiB`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? 'met' : '**missed**');

export function renderMarkdown(r: Any): string {
  const R = r.results ?? {};
  const m = r.machine;
  const row = (name: string, s: Summary | null | undefined, raw: Summary | null | undefined, target: string, ok: boolean | undefined) =>
    `| ${name} | ${ms(s?.p50)} | ${ms(s?.p95)} | ${ms(s?.p99)} | ${ms(s?.max)} | ${s?.n ?? '–'} | ${raw ? `${raw.p50} / ${raw.p99}` : '–'} | ${raw ? `${ratio(s?.p50, raw.p50)} / ${ratio(s?.p99, raw.p99)}` : '–'} | ${target} | ${verdict(ok)} |`;
  const open = R.open ?? {};
  const raw = R.rawOpen ?? {};
  const inb = R.inboundResolve ?? {};
  const dup = R.inboundThroughput?.duplicateResolutions;
  const ack = R.inboundThroughput?.acknowledgements;
  const mem = R.memory ?? {};
  const h = R.history?.inboundResolve;
  const hp = R.history?.probectlResolve;
  const sustained = R.throughput?.sustainedPerSecond;
  const rawSustained = R.rawThroughput?.sustainedPerSecond;
  const atRateRow = (what: string, a: Any) =>
    `| inbound ${what} offered at ${a?.offeredPerSecond ?? '–'}/s (achieved ${a?.achievedPerSecond ?? '–'}/s), answer | ${a?.answer?.p50 ?? '–'} | ${a?.answer?.p95 ?? '–'} | ${a?.answer?.p99 ?? '–'} | ${a?.answer?.max ?? '–'} | ${a?.deliveries ?? '–'} | | | ≥ 500/s, p99 ≤ 25 | ${verdict(a?.answer ? a.achievedPerSecond >= 500 * 0.98 && a.skipped === 0 && a.answer.p99 <= 25 : undefined)} |`;
  const lines = [
    `## Run of ${r.date} (${r.mode})`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, Linux ${m.kernel}. ` +
      `Load average (1/5/15 min) at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    `Command: \`${r.command}\`. Temporal dev server SQLite pragmas: ${r.settings.sqlitePragmas}. ` +
      `${r.settings.tenants} tenants × 6 connectors, pacing ${r.settings.pacing}; worker and API log level ${r.settings.logLevel}; worker node arguments \`${r.settings.workerNodeArgs || 'none'}\` and environment \`${r.settings.workerEnv || 'none'}\`, workflow cache ${r.settings.maxCachedWorkflows || 'default'}` +
      `${r.settings.dynamicConfig?.length ? `; dev server dynamic config ${r.settings.dynamicConfig.join(', ')}` : ''}.`,
    '',
    'Latencies in ms (open is `POST /v1/incidents` sent → the request that creates the object reaches the double).',
    '',
    '| figure | p50 | p95 | p99 | max | n | raw baseline p50 / p99 | durable ÷ raw (p50 / p99) | target | |',
    '|---|---|---|---|---|---|---|---|---|---|',
    row(`open → first page (PagerDuty) at ${open.rate}/s`, open.firstPage, raw.firstPage, 'p50 ≤ 50, p99 ≤ 250', open.firstPage ? open.firstPage.p50 <= 50 && open.firstPage.p99 <= 250 : undefined),
    row(`open → all six reached at ${open.rate}/s`, open.allSix, raw.allSix, 'p99 ≤ 500', open.allSix ? open.allSix.p99 <= 500 : undefined),
    row('open: API answer (201)', open.apiAnswer, undefined, '', undefined),
    row('inbound resolution → HTTP answer', inb.answer, undefined, '', undefined),
    row('inbound resolution → other five resolved', inb.othersResolved, raw.othersResolved, '', undefined),
    `| sustained incidents/s (p99 open → all six ≤ 1 s) | ${sustained ?? '–'} | | | | | ${rawSustained ?? '–'} | ${ratio(sustained, rawSustained)} | ≥ 50 | ${verdict(sustained === undefined ? undefined : sustained >= 50)} |`,
    atRateRow('duplicate resolutions', R.inboundThroughput?.atRate?.duplicateResolutions),
    atRateRow('acknowledgements', R.inboundThroughput?.atRate?.acknowledgements),
    `| inbound capacity, closed loop of ${R.inboundThroughput?.concurrency ?? '–'} clients (duplicate resolutions), answer | ${dup?.answer?.p50 ?? '–'} | ${dup?.answer?.p95 ?? '–'} | ${dup?.answer?.p99 ?? '–'} | ${dup?.answer?.max ?? '–'} | ${dup?.deliveries ?? '–'} | | | | ${dup?.perSecond ?? '–'}/s |`,
    `| inbound capacity, closed loop (acknowledgements), answer | ${ack?.answer?.p50 ?? '–'} | ${ack?.answer?.p95 ?? '–'} | ${ack?.answer?.p99 ?? '–'} | ${ack?.answer?.max ?? '–'} | ${ack?.deliveries ?? '–'} | | | | ${ack?.perSecond ?? '–'}/s |`,
    `| worker RSS with ${mem.openIncidents ?? '–'} open incidents (peak) | ${mb(mem.workerRssMB)} (${mb(mem.workerPeakRssMB)}) | | | | | | | ≤ 400 MB at 10,000 | ${verdict(mem.workerRssMB === undefined ? undefined : mem.workerRssMB <= 400 && mem.openIncidents >= 10_000 ? true : mem.workerRssMB <= 400 ? undefined : false)} |`,
    `| API RSS (peak) | ${mb(mem.apiRssMB)} (${mb(mem.apiPeakRssMB)}) | | | | | | | | |`,
    `| Postgres per incident (${mem.incidentsInRun ?? '–'} incidents) | ${kb(mem.postgres?.perIncidentBytes)} | | | | | | | | |`,
    `| Temporal SQLite per incident (file + WAL growth) | ${kb(mem.temporalSqlite?.perIncidentBytes)} | | | | | | | | |`,
    `| history: six-connector open + inbound resolve | ${h?.events ?? '–'} events, ${kb(h?.bytes)} | | | | | | | ≤ 60 events | ${verdict(h ? h.events <= 60 : undefined)} |`,
    `| history: six-connector open + probectl resolve | ${hp?.events ?? '–'} events, ${kb(hp?.bytes)} | | | | | | | ≤ 60 events | ${verdict(hp ? hp.events <= 60 : undefined)} |`,
    '',
  ];
  const steps = (R.throughput?.steps ?? []) as Any[];
  const rawSteps = (R.rawThroughput?.steps ?? []) as Any[];
  if (steps.length > 0) {
    lines.push(`Step load (${R.throughput.stepSeconds} s per step; open → all six reached, ms):`, '',
      '| offered /s | achieved /s | p50 | p95 | p99 | max | not reached | raw p50 / p99 |', '|---|---|---|---|---|---|---|---|');
    for (const s of steps) {
      const rs = rawSteps.find((x) => x.rate === s.rate);
      lines.push(`| ${s.rate} | ${s.pace.achievedRate} | ${ms(s.allSix?.p50)} | ${ms(s.allSix?.p95)} | ${ms(s.allSix?.p99)} | ${ms(s.allSix?.max)} | ${s.incomplete} | ${rs?.allSix ? `${rs.allSix.p50} / ${rs.allSix.p99}` : '–'} |`);
    }
    lines.push('');
  }
  if (open.perProvider) {
    lines.push(`Open → reached, per provider at ${open.rate}/s (p50 / p99 ms): ` +
      Object.entries(open.perProvider).map(([p, s]) => `${p} ${(s as Summary | null)?.p50 ?? '–'} / ${(s as Summary | null)?.p99 ?? '–'}`).join(', ') + '.', '');
  }
  if (h?.byType) lines.push(`History events by type (inbound resolve): ${Object.entries(h.byType).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  if (r.problems?.length) lines.push('Problems during the run:', '', ...r.problems.slice(0, 10).map((p: string) => `- ${p.split('\n')[0]}`), '');
  return lines.join('\n');
}
