/**
 * The incident workflow (state-machine path) at the edges of what its contract allows, on the dev server with
 * stubbed provider calls: the longest ids, a legacy run's incident handed over, a pile of owed entries. Each test
 * checks that the workflow still completes and that what it owed reaches Postgres.
 */
import type { ConnectorRef } from '../../src/config/connectors';
import { correlateKey } from '../../src/shared/records';
import { initialState as legacyInitial } from '../../src/workflows/legacy/state-v1';
import { eventually, handled } from '../helpers/shared';
import { incidentOf, startHarness, type Harness } from './harness';
import { realMirror, resultWithin, type RealMirror } from './records';

jest.setTimeout(180_000);

const PD: ConnectorRef[] = [{ id: 'pagerduty', provider: 'pagerduty' }];
const at = () => new Date().toISOString();
const openLinks = async (h: Harness, id: string, n: number) =>
  eventually(async () => ((await h.state(id)) as { links: Array<{ status: string }> }).links.filter((l) => l.status === 'open').length === n, { what: `${n} open links` });

describe('the state machine at the edges of its contract', () => {
  let h: Harness;
  let db: RealMirror;
  beforeAll(async () => {
    db = realMirror();
    h = await startHarness({ connectors: PD });
  });
  afterAll(async () => {
    await h?.stop();
    await db?.close();
  });
  beforeEach(() => {
    for (const k of Object.keys(h.script)) delete h.script[k];
  });
  afterEach(() => h.releaseAll());

  // Proves: the contract allows an incident id of 128 characters and a correlate signalId of 256 (the workflow and the
  // /v1 API both accept them), and the correlated entry is keyed `correlate:probectl-<id>:<signalId>` — 404
  // characters — while migration 004 limits entry_key to 300. The workflow's own write (the real recordIncident on
  // the real Postgres here) then fails on every try, the entry stays owed with everything batched beside it, and
  // the workflow retries the write forever instead of completing.
  test('a correlated signal with the longest ids the contract allows is recorded, and the workflow completes', async () => {
    const failures: string[] = [];
    h.script.recordIncident = (c) => db.recordIncident(c.input as Parameters<RealMirror['recordIncident']>[0]).catch((err: Error) => {
      failures.push(err.message);
      throw err;
    });
    const base = incidentOf();
    const inc = { ...base, id: `${base.id}-${'x'.repeat(128)}`.slice(0, 128) };
    const signalId = `sig-${'s'.repeat(252)}`;
    expect(correlateKey(inc.id, signalId).length).toBeGreaterThan(300); // what the contract allows
    await h.start(inc);
    await openLinks(h, inc.id, 1);
    await h.signal(inc.id, 'correlate', { tenantId: inc.tenantId, signalId, summary: 'flap', at: at() });
    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'probectl', at: at() });
    await resultWithin(h.result(inc.id), 30_000, () => `a resolved incident with a long correlated signal id (${failures.length} record writes failed: ${failures[0] ?? 'none'})`);
    const timeline = await db.mirror.timeline(inc.tenantId, inc.id);
    expect(timeline.filter((e) => e.kind === 'correlated').map((e) => e.detail)).toEqual([`${signalId}: flap`.slice(0, 500)]);
  });

  // Proves: Postgres text cannot hold a NUL character, but nothing on the way stops one: the workflow and the /v1 API
  // accept any string as a correlate summary (or a resolve reason, an actor). The API's own write of the entry fails
  // and is taken for an outage (`recorded: false`); the workflow's write then fails on every try with it — and with
  // everything batched beside it — so the run never completes.
  test('a correlated signal whose summary holds a NUL character is recorded, and the workflow completes', async () => {
    const failures: string[] = [];
    h.script.recordIncident = (c) => db.recordIncident(c.input as Parameters<RealMirror['recordIncident']>[0]).catch((err: Error) => {
      failures.push(err.message);
      throw err;
    });
    const inc = incidentOf();
    await h.start(inc);
    await openLinks(h, inc.id, 1);
    await h.signal(inc.id, 'correlate', { tenantId: inc.tenantId, signalId: 'nul-1', summary: 'ping\u0000pong', at: at() });
    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'probectl', at: at() });
    await resultWithin(h.result(inc.id), 30_000, () => `a resolved incident with a NUL in a summary (${failures.length} record writes failed: ${failures[0] ?? 'none'})`);
    const timeline = await db.mirror.timeline(inc.tenantId, inc.id);
    expect(timeline.filter((e) => e.kind === 'correlated').map((e) => e.detail)).toEqual([expect.stringMatching(/^nul-1: ping.pong$/)]);
  });

  // Proves: labels are checked (keys ≤ 128, values ≤ 1024) by the state-machine path only; a run of the legacy path
  // accepted any label. When such a run continues-as-new after the deploy, its next run takes the state-machine path
  // (patched) and the label check fails it as InvalidInput: the incident's workflow is failed mid-life, its pages
  // are never resolved, and later signals are refused as if it had completed.
  test('a legacy run handed over with a label the state machine would refuse at start carries on and resolves', async () => {
    const inc = incidentOf('acme', { labels: { runbook: `https://runbooks.example/${'r'.repeat(2000)}` } });
    const old = legacyInitial(inc);
    old.begun = true;
    old.run = 3;
    old.connectors = PD;
    old.links = { pagerduty: { connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: `probectl-${inc.id}`, updatedAt: at() } };
    old.pending = { timeline: [], linkIds: [], incident: false };
    await h.start(inc, old);
    const done = handled(resultWithin(h.result(inc.id), 30_000, 'a legacy hand-over with a long label'), 'the hand-over run');
    // a signal to a run that already failed is refused: show why it failed instead
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() }).catch(async (err: unknown) => {
      await done;
      throw err;
    });
    const result = await done;
    expect(result.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);
  });

  // Proves: the workflow's own write takes every owed item no call carries, in one activity input. While a write
  // is under way (or backing off after a failure, up to a minute), a stream of correlated signals piles up; the
  // next write then carries all of it. Here ~2.4 MB: over Temporal's 2 MiB payload limit, so the server refuses the
  // command that schedules the write (terminating the workflow), although no run came near its event or size
  // limits and the continue-as-new bound was never involved.
  test('a pile of owed entries is written in writes that each fit a payload; the workflow completes', async () => {
    const inc = incidentOf();
    await h.start(inc);
    await openLinks(h, inc.id, 1);
    const first = h.hold('recordIncident', '');
    await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: 'first', at: at() });
    await eventually(() => first.held() === 1, { what: 'the first write under way', timeoutMs: 20_000 });
    const N = 1_200;
    let next = 0;
    const send = async () => {
      for (let i = next++; i < N; i = next++) {
        await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: `${'\u00e9'.repeat(240)}-${i}`, summary: '\u20ac'.repeat(500), at: at() });
      }
    };
    await Promise.all(Array.from({ length: 32 }, send));
    await eventually(async () => (await h.state(inc.id)).correlationCount === N + 1, { what: 'every signal counted', timeoutMs: 60_000 });
    const hist = await h.history(inc.id);
    console.log(`owed pile: ${N} correlated signals in one run: ${hist.events} events, ${hist.runs} run(s)`);
    first.release();
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    await resultWithin(h.result(inc.id), 60_000, 'an incident that owed a pile of entries');
    const writes = h.calls.filter((c) => c.name === 'recordIncident' && c.input.incident?.id === inc.id);
    const sizes = writes.map((c) => Buffer.byteLength(JSON.stringify(c.input)));
    console.log(`record writes: ${writes.length}, largest input ${Math.max(...sizes)} bytes`);
    const keys = new Set(writes.flatMap((c) => c.input.payload.entries).filter((e: { kind: string }) => e.kind === 'correlated').map((e: { key: string }) => e.key));
    expect(keys.size).toBe(N + 1);
    for (const size of sizes) expect(size).toBeLessThan(2 * 1024 * 1024);
  });
});
