/** The pollers' shared parts: an outage said once at its start and once at its end; a sleep that stop cuts short. */
import { OutageLog, PollSleep } from '../../../src/db/poll';

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
