/** The markdown table of one benchmark run (bench/results/<date>.md; docs/benchmarks.md quotes it). */
import { LOCAL_PHASES, PHASES, TOTALS } from './lib/phases';
import type { Summary } from './lib/stats';

/** Where a phase's row goes: the ordinary phases, then the local first attempt's, then the totals. */
const PHASE_ROWS: readonly string[] = [...PHASES, ...LOCAL_PHASES, ...TOTALS];
const phaseOrder = (name: string) => (PHASE_ROWS.includes(name) ? PHASE_ROWS.indexOf(name) : PHASE_ROWS.length);

type Any = any;

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${v}`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(1)}×`);
const mb = (v: number | undefined) => (v === undefined ? '–' : `${v} MB`);
const kb = (v: number | undefined) => (v === undefined ? '–' : `${(v / 1024).toFixed(1)} KiB`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? 'met' : '**missed**');

export function renderMarkdown(r: Any): string {
  const m = r.machine;
  const lines = [
    `## Run of ${r.date} (${r.mode})`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, Linux ${m.kernel}. ` +
      `Load average (1/5/15 min) at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    `Command: \`${r.command}\`. Temporal: ${r.settings.temporalServer ?? `dev server, SQLite pragmas ${r.settings.sqlitePragmas}`}. ` +
      `${r.settings.tenants} tenants × 6 connectors, pacing ${r.settings.pacing}; worker and API log level ${r.settings.logLevel}; worker node arguments \`${r.settings.workerNodeArgs || 'none'}\` and environment \`${r.settings.workerEnv || 'none'}\`, workflow cache ${r.settings.maxCachedWorkflows || 'default'}` +
      `${r.settings.dynamicConfig?.length ? `; dynamic config added: ${r.settings.dynamicConfig.join(', ')}` : ''}` +
      `${r.settings.env ? `; BENCH_ENV \`${r.settings.env}\`` : ''}.`,
    r.settings.coLocate
      ? 'Worker and API in **one process** (`main.js all`, `--co-locate`): its CPU and RSS are charged as the worker\'s; eager start as PROBECTL_NOTIFY_EAGER_START says (auto unless BENCH_ENV sets it).'
      : 'Worker and API in two processes (`main.js worker`, `main.js api`), as docker-compose.yml runs them: no eager start (the API has no worker beside it).',
    `Parts: ${(r.parts ?? ['core']).join(', ')}.`,
    '',
  ];
  if (!r.parts || r.parts.includes('core')) lines.push(...coreLines(r));
  lines.push(...peerLines(r));
  if (r.problems?.length) lines.push('Problems during the run:', '', ...r.problems.slice(0, 10).map((p: string) => `- ${p.split('\n')[0]}`), '');
  return lines.join('\n');
}

function coreLines(r: Any): string[] {
  const R = r.results ?? {};
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
    `| Temporal storage per incident (${mem.temporalStorage?.what ?? 'SQLite file + WAL'} growth) | ${kb((mem.temporalStorage ?? mem.temporalSqlite)?.perIncidentBytes)} | | | | | | | | |`,
    `| history: six-connector open + inbound resolve | ${h?.events ?? '–'} events, ${kb(h?.bytes)} | | | | | | | ≤ 60 events | ${verdict(h ? h.events <= 60 : undefined)} |`,
    `| history: six-connector open + probectl resolve | ${hp?.events ?? '–'} events, ${kb(hp?.bytes)} | | | | | | | ≤ 60 events | ${verdict(hp ? hp.events <= 60 : undefined)} |`,
    '',
  ];
  const split = mem.workerSplit as Record<string, Any> | undefined;
  if (split) {
    const heap = (m: Any, kind: string) => (m?.threads ?? []).filter((t: Any) => t.thread === kind).map((t: Any) => `${t.heapTotalMB} (${t.heapUsedMB} used)`).join(' + ') || '–';
    lines.push('Where the worker\'s RSS is (MB; /proc anonymous and file-backed, each thread\'s committed V8 heap, native = anonymous not in a V8 heap):', '',
      '| when | RSS | anonymous | file-backed | main thread heap | workflow thread heap | native |', '|---|---|---|---|---|---|---|');
    for (const [when, m] of Object.entries(split)) {
      lines.push(`| ${when} | ${mb(m?.rssMB)} | ${mb(m?.anonMB)} | ${mb(m?.fileMB)} | ${heap(m, 'main')} | ${heap(m, 'worker')} | ${mb(m?.nativeAnonMB)} |`);
    }
    lines.push('');
  }
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
  return lines;
}

const pp = (s: Summary | null | undefined) => (s ? `${s.p50} / ${s.p99}` : '–');
const rr = (x: { p50?: number; p99?: number } | undefined) => (x?.p50 === undefined && x?.p99 === undefined ? '–' : `${x?.p50 ?? '–'}× / ${x?.p99 ?? '–'}×`);
const cpu = (c: Record<string, number> | undefined) => (c ? `${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(' + ')} = ${Math.round(Object.values(c).reduce((a, b) => a + b, 0) * 10) / 10}` : '–');
const ok = (v: boolean | undefined) => (v === undefined ? '–' : v ? 'yes' : 'no');

/** The floor, Alertmanager and the per-phase breakdown (bench/parts/*). */
function peerLines(r: Any): string[] {
  const R = r.results ?? {};
  const lines: string[] = [];
  const F = R.floor;
  if (F?.steps?.length) {
    lines.push(
      `### Ours and the Temporal floor${F.activities === 'local' ? ' with local activities' : ''} (${F.stepSeconds} s per step, interleaved)`, '',
      `Knee: the highest offered rate with ${F.knee?.rule ?? '–'}. Ours ${F.oursKnee}/s, floor ${F.floorKnee}/s${F.floorKneeIsLastStep ? ' (its last step: the floor\'s knee is at least that)' : ''}; ours ÷ floor ${F.kneeRatio ?? '–'}. Latencies in ms, p50 / p99.`, '',
      '| offered /s | ours first page | floor first page | ours ÷ floor | ours all six | floor all six | ours ÷ floor | within the knee (ours / floor) | CPU ms per incident, ours / floor |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of F.steps as Any[]) {
      lines.push(`| ${s.rate} | ${pp(s.ours?.firstPage)} | ${pp(s.floor?.firstPage)} | ${rr(s.firstPageRatio)} | ${pp(s.ours?.all)} | ${pp(s.floor?.all)} | ${rr(s.allSixRatio)} | ${ok(s.ours?.withinKnee)} / ${ok(s.floor?.withinKnee)} | ${cpu(s.ours?.cpuMsPerIncident)} / ${cpu(s.floor?.cpuMsPerIncident)} |`);
    }
    lines.push('', 'CPU per incident: user + system time of the worker, the API (ours only), the Temporal server and the whole Postgres server from the step\'s start to 2 s after its last arrival, ÷ incidents started (the doubles and the driver not counted). A system whose sum exceeds 1000 × cores ÷ rate ms cannot keep up with that rate on this machine.');
    lines.push('', `Floor worker RSS at the end: ${mb(F.floorWorkerRssMB)}.`, '');
  }
  const P = R.phases;
  if (P?.runs?.length) {
    const runs = P.runs as Any[];
    // Every run's phases, in order (ours with local first opens has the `local:` rows, the floor with ordinary activities not).
    const names = [...new Set(runs.flatMap((x) => Object.keys(x.phases ?? {})))].sort((a, b) => phaseOrder(a) - phaseOrder(b));
    lines.push(
      `### Where the milliseconds of an open go (${P.seconds} s per rate; p50 / p99 ms)`, '',
      'Per incident: the first three rows; per open activity (six per incident): the next five; then the totals. ' +
        '"request sent" is the first request of the open (Jira and ServiceNow look the ticket up before they create it); ' +
        '"answer at worker → activity completed" holds any further request of the open and, for ours, the outcome record in Postgres. ' +
        'The `local:` rows are opens whose first attempt ran as a local activity in the first workflow task (ours by default): from that ' +
        'task\'s start to the request, and from the answer to the completion of that task, which waits for its slowest attempt.', '',
      `| phase | ${runs.map((x) => `${x.system} ${x.rate}/s`).join(' | ')} |`,
      `|---|${runs.map(() => '---').join('|')}|`,
      ...names.map((n) => `| ${n} | ${runs.map((x) => pp(x.phases[n])).join(' | ')} |`),
      `| PagerDuty only: activity started → request sent | ${runs.map((x) => pp(x.firstPage?.['activity started → request sent'])).join(' | ')} |`,
      `| PagerDuty only: answer at worker → activity completed | ${runs.map((x) => pp(x.firstPage?.['answer at worker → activity completed'])).join(' | ')} |`,
      `| PagerDuty only: local: first workflow task started → request sent | ${runs.map((x) => pp(x.firstPage?.['local: first workflow task started → request sent'])).join(' | ')} |`,
      `| PagerDuty only: local: of which request created → request sent | ${runs.map((x) => pp(x.firstPage?.['local: of which request created → request sent'])).join(' | ')} |`,
      `| opens whose first attempt was local | ${runs.map((x) => (x.localOpens === undefined ? '–' : String(x.localOpens))).join(' | ')} |`,
      `| incidents / activities / unplaced samples | ${runs.map((x) => `${x.incidents} / ${x.activities} / ${Object.values(x.missing ?? {}).reduce((a: number, b) => a + Number(b), 0)}`).join(' | ')} |`,
      `| incidents begun with a local activity before the opens | ${runs.map((x) => (x.begunLocally === undefined ? '–' : String(x.begunLocally))).join(' | ')} |`,
      `| CPU ms per incident (worker, API, Temporal server, Postgres server) | ${runs.map((x) => cpu(x.step?.cpuMsPerIncident)).join(' | ')} |`,
      '',
    );
  }
  const A = R.alertmanager;
  if (A?.skipped) lines.push('### Alertmanager', '', `Skipped: ${A.skipped}.`, '');
  else if (A?.steps?.length) {
    lines.push(
      `### Alertmanager ${A.version} beside us (same doubles, same rates; p50 / p99 ms)`, '',
      `One alert per \`POST /api/v2/alerts\`, each its own group (group_by incident, group_wait 0s, group_interval ${A.settings?.groupInterval}, repeat_interval ${A.settings?.repeatInterval}), five receivers (no ServiceNow). ` +
        `Knee as above: Alertmanager ${A.alertmanagerKnee}/s, ours ${A.oursKnee}/s. Alertmanager RSS ${mb(A.rssMB)} (peak ${mb(A.peakRssMB)}); failed notifications ${JSON.stringify(A.failedNotifications ?? {})}; ` +
        `binary ${A.builtThisRun ? `built in this run in ${A.buildSeconds} s` : `from the cache${A.buildSeconds ? ` (its build took ${A.buildSeconds} s)` : ''}`}.`, '',
      '| offered /s | Alertmanager first page | Alertmanager all five | Alertmanager API answer | ours first page | ours all five | ours all six | ours API answer | within the knee (Alertmanager / ours) | CPU ms per incident, Alertmanager / ours |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of A.steps as Any[]) {
      const a = s.alertmanager;
      lines.push(`| ${s.rate} | ${pp(a?.firstPage)} | ${pp(a?.all)} | ${pp(a?.answer)} | ${pp(s.ours?.firstPage)} | ${pp(s.ours?.allFive)} | ${pp(s.ours?.allSix)} | ${pp(s.ours?.answer)} | ${ok(a?.withinKnee)} / ${ok(s.ours?.withinKnee)} | ${cpu(a?.cpuMsPerIncident)} / ${cpu(s.ours?.cpuMsPerIncident)} |`);
    }
    const per = (A.steps as Any[]).filter((s) => s.alertmanager).map((s) =>
      `${s.rate}/s: ${Object.entries(s.alertmanager.perProvider ?? {}).map(([p, v]) => `${p} ${pp(v as Summary | null)}`).join(', ')}`);
    lines.push('', `Alertmanager, per receiver (p50 / p99 ms): ${per.join('; ')}.`, '', 'Not comparable:', '', ...(A.notComparable ?? []).map((x: string) => `- ${x}`), '');
  }
  return lines;
}
