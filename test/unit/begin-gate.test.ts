/**
 * The API's gate for the checked begin snapshot (src/runtime/begin-gate.ts): open only while every worker Temporal
 * lists on the task queue carries the API's digest — every mix of pollers — and what it does over time: cached,
 * refreshed in the background, closed on an error, logged on a change only, one request at a time.
 */
import { Writable } from 'node:stream';
import { workerBuildId } from '../../src/runtime/build-id';
import { BACKGROUND_LOOK_MS, BeginGate, pollerAgreement, type Every, type PollerInfo } from '../../src/runtime/begin-gate';
import { createLogger } from '../../src/observability/logger';

const D = '0123456789abcdef';
const OTHER = 'fedcba9876543210';
const mine = (identity = 'w1'): PollerInfo => ({ identity, workerVersionCapabilities: { buildId: workerBuildId({ code: 'c' }, D) } });
const theirs = (identity = 'w2'): PollerInfo => ({ identity, workerVersionCapabilities: { buildId: workerBuildId({ code: 'c' }, OTHER) } });
/** A worker of an earlier release: the SDK's default Build ID. */
const older = (identity = 'w3'): PollerInfo => ({ identity, workerVersionCapabilities: { buildId: '@temporalio/worker@1.24.0+abcdef' } });
const bare = (identity = 'w4'): PollerInfo => ({ identity });

describe('pollerAgreement', () => {
  test.each<[string, boolean, PollerInfo[]]>([
    ['no poller', false, []],
    ['one worker with the digest', true, [mine()]],
    ['three with it', true, [mine('a'), mine('b'), mine('c')]],
    ['one with another digest', false, [theirs()]],
    ['one of an earlier release', false, [older()]],
    ['one with no Build ID', false, [bare()]],
    ['two with it and one of an earlier release', false, [mine('a'), older(), mine('b')]],
    ['one with it and one with another digest', false, [mine(), theirs()]],
    ['one with it and one with no Build ID', false, [mine(), bare()]],
  ])('%s → open %p', (_name, open, pollers) => {
    expect(pollerAgreement(pollers, D).open).toBe(open);
  });

  test('the reason names the count and the other Build IDs, nothing else', () => {
    const a = pollerAgreement([mine(), older(), theirs(), bare()], D);
    // Sorted, so the same workers in another order give the same reason.
    expect(a.reason).toBe(`3 of 4 workers polling the task queue have another or no begin digest (Build IDs (none), ${workerBuildId({ code: 'c' }, OTHER)}, @temporalio/worker@1.24.0+abcdef)`);
  });
});

describe('BeginGate', () => {
  /** Each answer is the pollers of every partition, partition by partition (or an error for the whole look). */
  const setup = (answers: Array<PollerInfo[][] | Error>, opts: { listed?: number; every?: Every; backgroundMs?: number } = {}) => {
    let t = 0;
    const lines: string[] = [];
    const asked: number[] = [];
    const described: string[] = [];
    const pending: Array<() => void> = [];
    let hold = false;
    let hang = false;
    let current: PollerInfo[][] = [];
    const service = {
      listTaskQueuePartitions: async () => {
        asked.push(t);
        if (hang) return new Promise<never>(() => undefined);
        if (hold) await new Promise<void>((r) => pending.push(r));
        const next = answers.length > 1 ? answers.shift()! : answers[0]!;
        if (next instanceof Error) throw next;
        current = next;
        // What the server lists: its write partitions (opts.listed), which may be fewer than those polled.
        return { workflowTaskQueuePartitions: Array.from({ length: opts.listed ?? next.length }, (_, i) => ({ key: i === 0 ? 'tq' : `/_sys/tq/${i}` })) };
      },
      describeTaskQueue: async (req: { taskQueue: { name: string; kind: number }; taskQueueType: number }) => {
        described.push(`${req.taskQueue.name} kind ${req.taskQueue.kind} type ${req.taskQueueType}`);
        const i = req.taskQueue.name === 'tq' ? 0 : Number(req.taskQueue.name.split('/').at(-1));
        return { pollers: current[i] ?? [] };
      },
    };
    const log = createLogger('info', new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }));
    const gate = new BeginGate({
      service, namespace: 'default', taskQueue: 'tq', digest: D, log, now: () => t, lookTimeoutMs: 50,
      ...(opts.every ? { every: opts.every } : {}), ...(opts.backgroundMs ? { backgroundMs: opts.backgroundMs } : {}),
    });
    return {
      gate, lines, asked, described,
      advance: (ms: number) => { t += ms; },
      holdAnswers: () => { hold = true; },
      hangAnswers: () => { hang = true; },
      release: () => { hold = false; for (const r of pending.splice(0)) r(); },
    };
  };
  const tick = () => new Promise((r) => setImmediate(r));

  test('every partition is asked: a worker of an earlier release polling only the fourth closes it', async () => {
    const s = setup([[[mine('a')], [mine('b')], [], [older('c')]]]);
    expect(await s.gate.open()).toBe(false);
    // Normal (1) workflow (1) task queue partitions, by their partition names.
    expect(s.described).toEqual(['tq', '/_sys/tq/1', '/_sys/tq/2', '/_sys/tq/3'].map((n) => `${n} kind 1 type 1`));
    expect(s.lines.join('')).toContain('1 of 3 workers polling the task queue have another or no begin digest');
  });

  test('the server lists one (write) partition, workers poll four (read): all four are asked, the fourth\'s worker closes it', async () => {
    const s = setup([[[mine('a')], [], [], [older('c')]]], { listed: 1 });
    expect(await s.gate.open()).toBe(false);
    expect(s.described).toHaveLength(4);
  });

  test('the server lists six partitions: all six are asked', async () => {
    const s = setup([[[mine('a')], [], [], [], [], [older('f')]]]);
    expect(await s.gate.open()).toBe(false);
    expect(s.described).toHaveLength(6);
  });

  test('one worker listed on every partition counts once', async () => {
    const s = setup([[[mine('a')], [mine('a')], [mine('a')], [mine('a')]]]);
    expect(await s.gate.open()).toBe(true);
    expect(s.lines.join('')).toContain('all 1 workers polling the task queue have this digest');
  });

  test('the same workers spread over the partitions: open', async () => {
    const s = setup([[[mine('a')], [mine('b'), mine('a')], [], [mine('c')]]]);
    expect(await s.gate.open()).toBe(true);
  });

  test('the first call waits for Temporal; an open answer is used for 5 s, refreshed behind the next open up to 10 s', async () => {
    const s = setup([[[mine()]], [[older()]]]);
    expect(await s.gate.open()).toBe(true);
    s.advance(4_999);
    expect(await s.gate.open()).toBe(true);
    expect(s.asked).toEqual([0]);
    s.advance(1);
    // A little stale: answered from the cache while the refresh runs; the next call sees the refreshed (closed) answer.
    expect(await s.gate.open()).toBe(true);
    await tick();
    expect(await s.gate.open()).toBe(false);
    expect(s.asked).toEqual([0, 5_000]);
  });

  test('the boundary: at 9,999 ms an open answer is still given while it is refreshed, at 10,000 ms the open waits', async () => {
    const s = setup([[[mine()]], [[older()]], [[older()]]]);
    expect(await s.gate.open()).toBe(true);
    s.advance(9_999);
    expect(await s.gate.open()).toBe(true);
    await tick();
    const t = setup([[[mine()]], [[older()]]]);
    expect(await t.gate.open()).toBe(true);
    t.advance(10_000);
    expect(await t.gate.open()).toBe(false);
  });

  test('an answer older than twice its refresh time is not used: after a quiet hour the open waits for a fresh look', async () => {
    const s = setup([[[mine()]], [[mine(), older()]]]);
    expect(await s.gate.open()).toBe(true);
    s.advance(3_600_000);
    expect(await s.gate.open()).toBe(false);
    expect(s.asked).toEqual([0, 3_600_000]);
  });

  test('a closed answer is asked again after 1 s (workers that have just started)', async () => {
    const s = setup([[[]], [[mine()]]]);
    expect(await s.gate.open()).toBe(false);
    s.advance(999);
    expect(await s.gate.open()).toBe(false);
    expect(s.asked).toHaveLength(1);
    s.advance(1);
    await s.gate.open();
    await tick();
    expect(await s.gate.open()).toBe(true);
    expect(s.asked).toEqual([0, 1_000]);
  });

  test('an error closes it (and is logged once), the next answer opens it again', async () => {
    const s = setup([new Error('14 UNAVAILABLE: connection refused'), new Error('14 UNAVAILABLE: connection refused'), [[mine()]]]);
    expect(await s.gate.refresh()).toBe(false);
    expect(await s.gate.refresh()).toBe(false);
    expect(await s.gate.refresh()).toBe(true);
    const logged = s.lines.map((l) => JSON.parse(l) as { level: number; passed: boolean; reason: string });
    // A failed look is a warning (a proxy that refuses the calls keeps the snapshot off for good).
    expect(logged.map((l) => [l.level, l.passed, l.reason])).toEqual([
      [40, false, "the task queue's workers could not be listed (ListTaskQueuePartitions, DescribeTaskQueue): 14 UNAVAILABLE: connection refused"],
      [30, true, 'all 1 workers polling the task queue have this digest'],
    ]);
  });

  test('a look that never answers counts as failed after its timeout: closed, and the next look is not stuck behind it', async () => {
    const s = setup([[[mine()]]]);
    s.hangAnswers();
    expect(await s.gate.refresh()).toBe(false);
    expect(s.lines.join('')).toContain('no answer within 50 ms');
    expect(await s.gate.refresh()).toBe(false);
    expect(s.asked).toHaveLength(2);
  });

  test('the same workers in another order log nothing new', async () => {
    const s = setup([[[theirs('x'), older('y'), mine('z')]], [[mine('z'), older('y'), theirs('x')]]]);
    await s.gate.refresh();
    await s.gate.refresh();
    expect(s.lines).toHaveLength(1);
  });

  test('one request at a time: callers during a refresh share it', async () => {
    const s = setup([[[mine()]]]);
    s.holdAnswers();
    const calls = [s.gate.open(), s.gate.open(), s.gate.refresh()];
    await tick();
    expect(s.asked).toHaveLength(1);
    s.release();
    expect(await Promise.all(calls)).toEqual([true, true, true]);
  });

  describe('the background looks while the API runs (start/stop)', () => {
    /** A schedule the test fires by hand: `fire()` runs one background look. */
    const manual = () => {
      const runs: Array<() => void> = [];
      let stopped = 0;
      const every: Every = (fn, ms) => {
        expect(ms).toBe(BACKGROUND_LOOK_MS);
        runs.push(fn);
        return () => { stopped += 1; };
      };
      return { every, fire: () => runs.forEach((r) => r()), scheduled: () => runs.length, stopped: () => stopped };
    };

    test.each([
      ['10 s', 10_000],
      ['a minute', 60_000],
      ['an hour', 3_600_000],
    ])('after %s of quiet, the open is answered from a background look, without a call to Temporal of its own', async (_name, quietMs) => {
      const m = manual();
      const s = setup([[[mine()]]], { every: m.every });
      s.gate.start();
      await tick();
      for (let at = BACKGROUND_LOOK_MS; at <= quietMs; at += BACKGROUND_LOOK_MS) {
        s.advance(BACKGROUND_LOOK_MS);
        m.fire();
        await tick();
      }
      s.advance(quietMs % BACKGROUND_LOOK_MS);
      const asked = s.asked.length;
      expect(asked).toBe(1 + Math.floor(quietMs / BACKGROUND_LOOK_MS));
      // Any look the open made now would never answer: it must not wait for one.
      s.holdAnswers();
      const first = await Promise.race([s.gate.open(), tick().then(() => 'waited for a look')]);
      expect(first).toBe(true);
      expect(s.asked).toHaveLength(asked);
      s.release();
    });

    test('a worker of an earlier release that starts polling closes it at the next background look, with no open to ask', async () => {
      const m = manual();
      const s = setup([[[mine()]], [[mine(), older()]]], { every: m.every });
      s.gate.start();
      await tick();
      expect(await s.gate.open()).toBe(true);
      s.advance(BACKGROUND_LOOK_MS);
      m.fire();
      await tick();
      expect(await s.gate.open()).toBe(false);
      expect(s.asked).toEqual([0, BACKGROUND_LOOK_MS]);
    });

    const closedCauses = [
      ['an earlier release\'s worker polls (a rolling deploy)', [[[mine(), older()]]]],
      ['no worker polls', [[[]]]],
      ['Temporal refuses the look', [new Error('7 PERMISSION_DENIED: DescribeTaskQueue')]],
    ] as Array<[string, Array<PollerInfo[][] | Error>]>;
    // The setup's looks may take 50 ms (lookTimeoutMs), so a closed answer is usable while younger than 4,000 + 50 ms.
    const LIMIT = BACKGROUND_LOOK_MS + 50;
    // Every age of the last answer from just made to the limit, and the limit itself: each row its own gate, so the
    // age is exactly the one named.
    const ages: Array<[number, boolean]> = [[0, false], [999, false], [1_000, false], [2_000, false], [3_999, false], [BACKGROUND_LOOK_MS, false], [LIMIT - 1, false], [LIMIT, true], [LIMIT + 1_000, true]];
    test.each(closedCauses.flatMap(([name, answers]) => ages.map(([age, waits]) => [name, age, waits, answers] as const)))(
      'closed because %s, the last background look %p ms old: waits for a look of its own %p',
      async (_name, age, waits, answers) => {
        const m = manual();
        const s = setup([...answers], { every: m.every });
        s.gate.start();
        await tick();
        for (let i = 0; i < 3; i += 1) {
          s.advance(BACKGROUND_LOOK_MS);
          m.fire();
          await tick();
        }
        const asked = s.asked.length;
        s.advance(age);
        s.holdAnswers();
        const first = await Promise.race([s.gate.open(), tick().then(() => 'waited for a look')]);
        expect(first).toBe(waits ? 'waited for a look' : false);
        // Either way one look behind it at most (none while the answer is under its 1 s).
        expect(s.asked.length - asked).toBe(age < 1_000 ? 0 : 1);
        s.release();
        await tick();
      },
    );

    test('a Temporal outage whose error text changes with every look (gRPC\'s "Deadline exceeded after 2.001s") warns once, not every 4 s', async () => {
      let n = 0;
      const varying = Array.from({ length: 16 }, () => new Error(`4 DEADLINE_EXCEEDED: Deadline exceeded after 2.00${(n += 1) % 10}s,LB pick at 2026-12-04T05:00:0${n % 10}.123Z`));
      const m = manual();
      const s = setup([...varying, [[mine()]]], { every: m.every });
      s.gate.start();
      await tick();
      for (let i = 0; i < 15; i += 1) {
        m.fire();
        await tick();
      }
      // Then the outage ends: that is news again.
      m.fire();
      await tick();
      const logged = s.lines.map((l) => JSON.parse(l) as { level: number; passed: boolean });
      expect(logged.map((l) => [l.level, l.passed])).toEqual([[40, false], [30, true]]);
      expect(s.asked).toHaveLength(17);
    });

    test('another failure\'s text is news: each kind of outage warns once, and again when it comes back after another', async () => {
      const deadline = (n: number) => new Error(`4 DEADLINE_EXCEEDED: Deadline exceeded after 2.00${n}s`);
      const refused = (port: number) => new Error(`14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:${port}`);
      const m = manual();
      const s = setup([deadline(1), deadline(2), refused(7233), refused(7234), deadline(3), [[mine()]]], { every: m.every });
      s.gate.start();
      await tick();
      for (let i = 0; i < 5; i += 1) {
        m.fire();
        await tick();
      }
      const logged = s.lines.map((l) => JSON.parse(l) as { level: number; reason: string });
      expect(logged.map((l) => l.level)).toEqual([40, 40, 40, 30]);
      const prefix = 'the task queue\'s workers could not be listed (ListTaskQueuePartitions, DescribeTaskQueue): ';
      expect(logged.map((l) => l.reason.replace(prefix, ''))).toEqual([
        '4 DEADLINE_EXCEEDED: Deadline exceeded after 2.001s',
        '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233',
        '4 DEADLINE_EXCEEDED: Deadline exceeded after 2.003s',
        'all 1 workers polling the task queue have this digest',
      ]);
    });

    test.each([0, 100, 185, 190, 200])('an error longer than the logged 200 characters whose number (%p characters in) grows by a digit is the same outage', async (at) => {
      const long = (n: number) => new Error(`${'x'.repeat(at)} after ${n}ms; ${'tail of the message '.repeat(10)}`);
      const m = manual();
      const s = setup([long(9), long(10), long(999), long(1000)], { every: m.every });
      s.gate.start();
      await tick();
      for (let i = 0; i < 3; i += 1) {
        m.fire();
        await tick();
      }
      expect(s.asked).toHaveLength(4);
      expect(s.lines).toHaveLength(1);
    });

    test('started twice, one schedule; stopped, no more looks; a look still running is not doubled', async () => {
      const m = manual();
      const s = setup([[[mine()]]], { every: m.every });
      s.holdAnswers();
      s.gate.start();
      s.gate.start();
      expect(m.scheduled()).toBe(1);
      await tick();
      // The look start() began has not answered: the background looks join it.
      m.fire();
      m.fire();
      await tick();
      expect(s.asked).toHaveLength(1);
      s.release();
      await tick();
      s.gate.stop();
      expect(m.stopped()).toBe(1);
      s.gate.stop();
      expect(m.stopped()).toBe(1);
    });

    test('the default schedule is a real interval that stop() ends (and that does not keep the process alive)', async () => {
      const s = setup([[[mine()]]], { backgroundMs: 10 });
      // Timers that keep Node running (an unref'd one is not listed; _getActiveHandles lists no timer at all).
      const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = refTimers();
      s.gate.start();
      // Unref'd: the interval adds no timer that keeps Node running (a ref'd one adds one here).
      expect(refTimers()).toBe(before);
      const by = Date.now() + 5_000;
      while (s.asked.length < 3 && Date.now() < by) await new Promise((r) => setTimeout(r, 5));
      expect(s.asked.length).toBeGreaterThanOrEqual(3);
      s.gate.stop();
      const after = s.asked.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(s.asked.length).toBe(after);
    });
  });
});
