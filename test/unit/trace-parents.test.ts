/**
 * RunTraceParents (src/observability/trace-parents.ts): how many history reads the activity-side trace parent
 * lookup costs. A fake history service counts reads; every case is a family (numbers of activities, kinds of
 * failure, workflow types), never one example.
 */
import type { Payload } from '@temporalio/common';
import { RunTraceParents, SIGNAL_SEARCH_EVENTS, type ActivityIdentity, type HistoryService, type TraceParentOptions } from '../../src/observability/trace-parents';
import { LOCAL_BUDGET_MS } from '../../src/observability/trace-parents';

const header = (tag: string): Payload => ({ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(JSON.stringify({ traceparent: tag })) });

interface Run {
  start?: Payload;
  firstRunId?: string;
  signals?: Array<{ name: string; header?: Payload }>;
}

type Behaviour = 'ok' | 'reject' | 'hang' | { delayMs: number };

class FakeHistory {
  reads = 0;
  pageSizes: number[] = [];
  constructor(private readonly runs: Record<string, Run>, public behaviour: Behaviour = 'ok') {}

  #answer<T>(value: T): Promise<T> {
    this.reads += 1;
    const b = this.behaviour;
    if (b === 'reject') return Promise.reject(new Error('unavailable'));
    if (b === 'hang') return new Promise<T>(() => undefined);
    if (b === 'ok') return Promise.resolve(value);
    return new Promise<T>((r) => setTimeout(() => r(value), b.delayMs));
  }

  service(): HistoryService {
    return {
      getWorkflowExecutionHistory: ((req: { execution: { runId: string }; maximumPageSize: number }) => {
        this.pageSizes.push(req.maximumPageSize);
        const run = this.runs[req.execution.runId];
        return this.#answer({
          history: { events: run ? [{ workflowExecutionStartedEventAttributes: { header: run.start ? { fields: { '_tracer-data': run.start } } : {}, firstExecutionRunId: run.firstRunId ?? req.execution.runId } }] : [] },
        });
      }) as unknown as HistoryService['getWorkflowExecutionHistory'],
      getWorkflowExecutionHistoryReverse: ((req: { execution: { runId: string }; maximumPageSize: number }) => {
        this.pageSizes.push(req.maximumPageSize);
        const run = this.runs[req.execution.runId];
        const events = [...(run?.signals ?? [])].reverse().map((s) => ({ workflowExecutionSignaledEventAttributes: { signalName: s.name, header: s.header ? { fields: { '_tracer-data': s.header } } : {} } }));
        return this.#answer({ history: { events } });
      }) as unknown as HistoryService['getWorkflowExecutionHistoryReverse'],
    };
  }
}

const make = (fake: FakeHistory, opts: TraceParentOptions = {}) => new RunTraceParents(fake.service(), 'default', opts);
const activity = (runId: string, activityType = 'openConnector', extra: Partial<ActivityIdentity> = {}): ActivityIdentity => ({
  activityType, isLocal: false, workflowType: 'incidentWorkflow', workflowId: `probectl-${runId}`, runId, ...extra,
});
const decoded = (p: Payload | undefined) => (p?.data ? JSON.parse(new TextDecoder().decode(p.data)).traceparent : undefined);

describe('RunTraceParents: history reads per run', () => {
  const TYPES = ['openConnector', 'mirrorLinks', 'resolveConnector', 'acknowledgeConnector', 'readStatus'];

  test.each([1, 5, 50])('%i activities of one run (every kind, concurrent and then sequential): at most one read per kind of lookup', async (n) => {
    const fake = new FakeHistory({ r1: { start: header('open'), signals: [{ name: 'resolve', header: header('resolve') }, { name: 'acknowledge', header: header('ack') }] } });
    const p = make(fake);
    const all = Array.from({ length: n }, (_, i) => activity('r1', TYPES[i % TYPES.length]));
    const concurrent = await Promise.all(all.map((a) => p.forActivity(a)));
    for (const a of all) await p.forActivity(a);
    const kinds = new Set(all.map((a) => (a.activityType === 'resolveConnector' ? 'resolve' : a.activityType === 'acknowledgeConnector' ? 'ack' : 'open')));
    expect(fake.reads).toBeLessThanOrEqual(kinds.size);
    expect(concurrent.map(decoded)).toEqual(all.map((a) => (a.activityType === 'resolveConnector' ? 'resolve' : a.activityType === 'acknowledgeConnector' ? 'ack' : 'open')));
  });

  test.each<[string, Behaviour, Run | undefined]>([
    ['a failing read', 'reject', { start: header('open') }],
    ['a run without trace context', 'ok', {}],
    ['a run that is not there', 'ok', undefined],
  ])('%s is not read again by every activity, only after the negative TTL', async (_what, behaviour, run) => {
    let now = 1_000_000;
    const fake = new FakeHistory(run ? { r1: run } : {}, behaviour);
    const p = make(fake, { now: () => now, negativeTtlMs: 30_000 });
    for (let i = 0; i < 20; i++) expect(await p.forActivity(activity('r1'))).toBeUndefined();
    expect(fake.reads).toBe(1);
    now += 30_001;
    await p.forActivity(activity('r1'));
    expect(fake.reads).toBe(2);
  });

  test.each<[string, Partial<ActivityIdentity>]>([
    ['the heartbeat canary', { workflowType: 'heartbeatCanaryWorkflow', activityType: 'heartbeatCanary' }],
    ['any other workflow type', { workflowType: 'someOtherWorkflow' }],
    ['an unknown workflow type', { workflowType: undefined }],
    ['a local activity of the incident workflow (the begin snapshot read)', { isLocal: true, activityType: 'beginIncident' }],
    ['a local resolve', { isLocal: true, activityType: 'resolveConnector' }],
  ])('%s: no read at all', async (_what, extra) => {
    const fake = new FakeHistory({ r1: { start: header('open') } });
    const p = make(fake);
    for (let i = 0; i < 10; i++) expect(await p.forActivity(activity(`r${i}`, 'openConnector', extra))).toBeUndefined();
    expect(fake.reads).toBe(0);
  });

  test('a local first attempt waits for a slow lookup only briefly, and the lookup goes on for the run\'s ordinary activities', async () => {
    const fake = new FakeHistory({ r1: { start: header('open') } }, { delayMs: 400 });
    const p = make(fake);
    const t0 = Date.now();
    expect(await p.forActivity(activity('r1', 'openConnector', { isLocal: true }))).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(LOCAL_BUDGET_MS + 250);
    // The same lookup, not a failure cached for the negative TTL: an ordinary activity of the run gets the parent.
    expect(await p.forActivity(activity('r1', 'openConnector'))).toEqual(header('open'));
    expect(fake.reads).toBe(1);
  });

  test('an open\'s local first attempt is parented on the run\'s start, as the ordinary open is, with one read per run', async () => {
    const fake = new FakeHistory({ r1: { start: header('open') } });
    const p = make(fake);
    // Six at once, as the first task starts them.
    const six = await Promise.all(Array.from({ length: 6 }, () => p.forActivity(activity('r1', 'openConnector', { isLocal: true }))));
    expect(six).toEqual(Array.from({ length: 6 }, () => header('open')));
    expect(await p.forActivity(activity('r1', 'openConnector'))).toEqual(header('open'));
    expect(fake.reads).toBe(1);
  });

  test('the signal search reads a small reverse page', async () => {
    const fake = new FakeHistory({ r1: { start: header('open'), signals: [{ name: 'resolve', header: header('resolve') }] } });
    await make(fake).forActivity(activity('r1', 'resolveConnector'));
    expect(Math.max(...fake.pageSizes)).toBeLessThanOrEqual(SIGNAL_SEARCH_EVENTS);
    expect(SIGNAL_SEARCH_EVENTS).toBeLessThanOrEqual(20);
  });

  test('the cache is LRU and bounded: a run in use stays, the least recently used one goes', async () => {
    const runs = Object.fromEntries(['a', 'b', 'c', 'd'].map((r) => [r, { start: header(r) }]));
    const fake = new FakeHistory(runs);
    const p = make(fake, { maxCached: 2 });
    await p.forActivity(activity('a'));
    await p.forActivity(activity('b'));
    await p.forActivity(activity('a')); // a used again: b is now the oldest
    await p.forActivity(activity('c')); // evicts b
    expect(fake.reads).toBe(3);
    await p.forActivity(activity('a'));
    expect(fake.reads).toBe(3);
    await p.forActivity(activity('b'));
    expect(fake.reads).toBe(4);
  });

  // A continued run needs two reads (its start, then its chain's first run's start): each takes 300 ms.
  test.each<[number, string | undefined]>([[450, undefined], [2_000, 'first']])('one budget for all the reads an activity waits for (budget %i ms)', async (budgetMs, expected) => {
    const fake = new FakeHistory({ r2: { firstRunId: 'r1' }, r1: { start: header('first') } }, { delayMs: 300 });
    expect(decoded(await make(fake, { budgetMs }).forActivity(activity('r2')))).toBe(expected);
  });

  test('a read that never answers: the activity goes on after the budget, and the next one does not wait again', async () => {
    const fake = new FakeHistory({ r1: { start: header('open') } }, 'hang');
    const p = make(fake, { budgetMs: 100 });
    expect(await p.forActivity(activity('r1'))).toBeUndefined();
    expect(await p.forActivity(activity('r1'))).toBeUndefined();
    expect(fake.reads).toBe(1);
  });
});
