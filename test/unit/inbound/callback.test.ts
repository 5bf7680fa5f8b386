import { createHmac } from 'node:crypto';
import { buildCallbackRequest, callbackSignature, createCallbackActivities } from '../../../src/activities/callback-activities';
import { HttpClient } from '../../../src/activities/http/client';
import { pickSource } from '../../../src/api/inbound/process';

const SECRET = 'callback-secret-0123456789';

describe('callback request', () => {
  test('the body is exactly what is signed, and the secret is nowhere in the request', () => {
    const req = buildCallbackRequest('https://probectl.example/hooks/notify', SECRET, {
      type: 'incident.resolved', eventId: 'probectl-inc-1/incident.resolved', incidentId: 'inc-1', tenantId: 'acme', source: 'servicenow', at: '2025-01-01T00:00:00.000Z',
      links: [{ connectorId: 'jira', provider: 'jira', status: 'resolved', externalRef: 'OPS-1' }],
    });
    expect(req.method).toBe('POST');
    expect(req.headers['x-probectl-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(req.body!).digest('hex')}`);
    expect(req.headers['x-probectl-signature']).toBe(callbackSignature(SECRET, req.body!));
    expect(JSON.parse(req.body!)).toMatchObject({ type: 'incident.resolved', incidentId: 'inc-1', tenantId: 'acme', source: 'servicenow' });
    expect(JSON.stringify(req)).not.toContain(SECRET);
  });

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
