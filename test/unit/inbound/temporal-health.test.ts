import { TemporalHealth } from '../../../src/api/inbound/temporal-health';

describe('TemporalHealth (whether a request tries Temporal inline)', () => {
  test('after a failure requests skip the inline try for the hold, then try again; a success clears it at once', () => {
    let now = 1_000;
    const h = new TemporalHealth(2_000, () => now);
    expect({ worth: h.worthTrying(), down: h.isDown() }).toEqual({ worth: true, down: false });
    h.unreachable();
    expect({ worth: h.worthTrying(), down: h.isDown() }).toEqual({ worth: false, down: true });
    now += 1_999;
    expect(h.worthTrying()).toBe(false);
    now += 1;
    expect({ worth: h.worthTrying(), down: h.isDown() }).toEqual({ worth: true, down: true }); // one request tries again
    h.unreachable();
    now += 500;
    expect(h.reachable()).toBe(2_500); // seen down since the first failure
    expect({ worth: h.worthTrying(), down: h.isDown() }).toEqual({ worth: true, down: false });
    expect(h.reachable()).toBeUndefined();
  });
});
