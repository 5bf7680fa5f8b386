import { createHmac } from 'node:crypto';
import { buildCallbackRequest, callbackFailure, createCallbackActivities } from '../../../src/activities/callback-activities';
import { HttpClient } from '../../../src/http/client';
import { pickSource } from '../../../src/api/inbound/process';

const SECRET = 'callback-secret-0123456789';

describe('callback request', () => {
  const event = {
    type: 'incident.resolved' as const, eventId: 'probectl-inc-1/incident.resolved', incidentId: 'inc-1', tenantId: 'acme', source: 'servicenow', at: '2025-01-01T00:00:00.000Z',
    links: [{ connectorId: 'jira', provider: 'jira', status: 'resolved', externalRef: 'OPS-1' }],
  };

  test('body form: the body is exactly what is signed, and the secret is nowhere in the request', () => {
    const req = buildCallbackRequest('https://probectl.example/hooks/notify', SECRET, event);
    expect(req.method).toBe('POST');
    expect(req.headers['x-probectl-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(req.body!).digest('hex')}`);
    expect(req.headers['x-probectl-timestamp']).toBeUndefined();
    expect(JSON.parse(req.body!)).toMatchObject({ type: 'incident.resolved', incidentId: 'inc-1', tenantId: 'acme', source: 'servicenow' });
    expect(JSON.stringify(req)).not.toContain(SECRET);
  });

  test('timestamped form: X-Probectl-Timestamp, and the HMAC over v1:<timestamp>:<body>', () => {
    const req = buildCallbackRequest('https://probectl.example/hooks/notify', SECRET, event, '1767225600');
    expect(req.headers['x-probectl-timestamp']).toBe('1767225600');
    expect(req.headers['x-probectl-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(`v1:1767225600:${req.body!}`).digest('hex')}`);
    expect(JSON.stringify(req)).not.toContain(SECRET);
  });

  test('a failure answer is scrubbed whole before it is cut (a secret straddling the 200-character cut leaves nothing)', () => {
    const url = 'https://probectl.example/hooks/notify-0123456789abcdef';
    const secret = 'Cb-s3cr3t-QZ0123456789xy';
    for (let offset = 150; offset <= 210; offset++) {
      const text = `${'x'.repeat(offset)}${secret} and ${encodeURIComponent(url)} ${'y'.repeat(100)}`;
      const f = callbackFailure(500, text, undefined, [url, secret]);
      for (let i = 0; i + 8 <= secret.length; i++) expect({ offset, leaked: f.message.includes(secret.slice(i, i + 8)) }).toEqual({ offset, leaked: false });
      expect(f.nonRetryable).toBe(false);
    }
    expect(callbackFailure(429, '', '7', []).nextRetryDelay).toBe(7000);
  });

  // Every status probectl may answer × every kind of Retry-After: the wait is honoured on each (a 503's as much as a
  // 429's), capped at 10 min on a 429 and 60 s otherwise, and a value that names no wait leaves the runner's back-off.
  const statuses = [400, 404, 408, 409, 429, 500, 502, 503, 504];
  const hints: [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ['7', 7_000],
    [' 30 ', 30_000],
    ['0.2', 1_000],
    ['45', 45_000],
    ['90', 90_000],
    ['3600', 3_600_000],
    ['0', undefined],
    ['-1', undefined],
    ['soon', undefined],
    ['Sun, 06 Nov 1994 08:49:37 GMT', undefined],
  ];
  test.each(statuses.flatMap((status) => hints.map(([hint, ms]) => [status, hint, ms] as const)))(
    'HTTP %i with Retry-After %p: retried, after the wait it names (capped)',
    (status, hint, ms) => {
      const f = callbackFailure(status, 'busy', hint, []);
      expect(f.nonRetryable).toBe(false);
      const cap = status === 429 ? 600_000 : 60_000;
      const expected = ms === undefined ? undefined : Math.min(ms, cap);
      expect(f.nextRetryDelay).toBe(expected);
      expect(f.details ?? []).toEqual(expected === undefined ? [] : [{ nextRetryDelayMs: expected }]);
      expect(f.type).toBe(status === 429 ? 'RateLimited' : 'ProviderUnavailable');
    },
  );

  test('no callback configured: the activity does nothing', async () => {
    const http = new HttpClient({ timeoutMs: 1000 });
    const send = jest.spyOn(http, 'send');
    const acts = createCallbackActivities({ config: {}, http });
    await expect(acts.reportToProbectl({ type: 'incident.acknowledged', eventId: 'e', incidentId: 'i', tenantId: 't', source: 'api', at: 'now' })).resolves.toEqual({ delivered: false });
    expect(send).not.toHaveBeenCalled();
    await http.close();
  });
});

describe('signal source for an inbound delivery', () => {
  test('one candidate; the entry id among several; otherwise no connector (nothing skipped)', () => {
    expect(pickSource(['pagerduty'], 'pd-in')).toBe('pagerduty');
    expect(pickSource(['pd-a', 'pd-a'], 'pd-in')).toBe('pd-a');
    expect(pickSource(['pd-a', 'pd-b'], 'pd-b')).toBe('pd-b');
    expect(pickSource(['pd-a', 'pd-b'], 'pd-in')).toBe('inbound:pd-in');
  });
});
