/** The pollers' shared parts: an outage said once at its start and once at its end; a sleep that stop cuts short. */
import { OutageLog, PollSleep, pollUntilStopped } from '../../../src/db/poll';

describe('OutageLog', () => {
  test.each([
    ['all well', 'ooo', []],
    ['one outage', 'offfo', ['warn', 'info']],
    ['two outages', 'fofof', ['warn', 'info', 'warn', 'info', 'warn']],
    ['a long outage', 'ffffffff', ['warn']],
  ])('%s (%s): one line when it starts, one when it ends', (_what, seq, expected) => {
    const lines: Array<[string, string, object?]> = [];
    const outage = new OutageLog({ info: (m) => void lines.push(['info', m]), warn: (o, m) => void lines.push(['warn', m, o]) }, 'poller', 'cannot read the store');
    for (const c of seq) if (c === 'o') outage.ok(); else outage.failed('connect ECONNREFUSED');
    expect(lines.map((l) => l[0])).toEqual(expected);
    for (const [level, msg, obj] of lines) {
      expect(msg).toBe(level === 'warn' ? 'poller: cannot read the store; retrying every poll' : 'poller: Postgres reachable again');
      if (level === 'warn') expect(obj).toEqual({ err: { message: 'connect ECONNREFUSED' } });
    }
  });
});

describe('PollSleep', () => {
  test('wake() ends the current sleep at once; a sleep without wake lasts its time; wake() with none is harmless', async () => {
    const s = new PollSleep();
    s.wake();
    const t0 = Date.now();
    const long = s.sleep(60_000);
    s.wake();
    await long;
    expect(Date.now() - t0).toBeLessThan(1_000);
    const t1 = Date.now();
    await s.sleep(50);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(45);
  });
});

describe('pollUntilStopped', () => {
  /**
   * Each character is one pass: `m` a full batch (more may be due), `n` nothing more, `f` Postgres failed, `s` the
   * pass during which stop() is called (it reports more). The loop goes again at once after `m`, sleeps after `n`
   * and `f`, runs `after` after each pass while running, and stops after the pass during which it was stopped.
   */
  test.each([
    ['full batches go again at once', 'mmns', 'step step step sleep step'],
    ['nothing due sleeps each time', 'nns', 'step after sleep step after sleep step'],
    ['a failure sleeps, is said once, and its end once', 'ffmns', 'step after sleep step after sleep step after step after sleep step'],
    ['stopped during the first pass: no after, no sleep', 's', 'step'],
  ])('%s (%s)', async (_what, passes, expected) => {
    const calls: string[] = [];
    const lines: string[] = [];
    let running = true;
    let i = 0;
    const withAfter = expected.includes('after');
    await pollUntilStopped({
      running: () => running,
      step: async () => {
        calls.push('step');
        const c = passes[i++];
        if (c === 's' || c === undefined) running = false;
        if (c === 'f') throw new Error('connect ECONNREFUSED');
        return c === 'm' || c === 's';
      },
      ...(withAfter ? { after: async () => void calls.push('after') } : {}),
      reason: (err) => (err as Error).message,
      outage: new OutageLog({ info: (m) => void lines.push(m), warn: (_o, m) => void lines.push(m) }, 'poller', 'cannot read the store'),
      sleep: { sleep: async (ms: number) => void calls.push(ms === 1_000 ? 'sleep' : `sleep ${ms}`) },
      pollMs: 1_000,
    });
    expect(calls.join(' ')).toBe(expected);
    expect(lines).toEqual(passes.includes('f') ? ['poller: cannot read the store; retrying every poll', 'poller: Postgres reachable again'] : []);
  });
});
