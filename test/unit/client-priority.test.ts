import { incidentPriority } from '../../src/client/priority';
import { SEVERITIES } from '../../src/shared/contract';

describe('incidentPriority', () => {
  test('every severity has a key in Temporal\'s default range 1..5, more severe first, warning at the default 3', () => {
    const keys = SEVERITIES.map((s) => incidentPriority(s).priorityKey!);
    for (const k of keys) expect(k >= 1 && k <= 5 && Number.isInteger(k)).toBe(true);
    const rank = (s: (typeof SEVERITIES)[number]) => incidentPriority(s).priorityKey!;
    expect(rank('critical')).toBeLessThan(rank('error'));
    expect(rank('error')).toBeLessThan(rank('warning'));
    expect(rank('warning')).toBeLessThan(rank('info'));
    expect(rank('warning')).toBe(3);
  });
});
