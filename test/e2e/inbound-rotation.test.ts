/**
 * Rotating an inbound secret without downtime: while both entries are configured, deliveries signed or
 * tokened with either secret are accepted; once the old one is removed, only the new one is.
 */
import { createHmac } from 'node:crypto';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const OLD = 'sn-old-secret-0123456789abcdef';
const NEW = 'sn-new-secret-fedcba9876543210';
const hmac = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('inbound secret rotation', () => {
  let sn: ServiceNowDouble;
  const tenant = uniqueId('rot');
  const stacks: TestStack[] = [];
  beforeAll(async () => {
    sn = await new ServiceNowDouble({ user: 'svc-notify', password: 'pa55word-rotation' }).start();
  });
  afterAll(async () => {
    for (const s of stacks) await s.stop();
    await sn.stop();
  });

  const deliver = (stack: TestStack, body: string, auth: Record<string, string>) =>
    stack.app.inject({ method: 'POST', url: '/ingest/itsm/servicenow/sn', headers: { 'content-type': 'application/json', ...auth }, payload: body });

  test('both secrets during the overlap, only the new one after', async () => {
    const connectors = `${tenant}|servicenow|${sn.url}|svc-notify:pa55word-rotation`;
    const overlap = await startStack({
      env: { PROBECTL_NOTIFY_CONNECTORS: connectors, PROBECTL_NOTIFY_INBOUND: `sn:${tenant}:servicenow:${OLD},sn:${tenant}:servicenow:${NEW}` },
    });
    stacks.push(overlap);
    const probe = JSON.stringify({ sys_id: 'not-one-of-ours', state: '6' });
    for (const secret of [OLD, NEW]) {
      expect((await deliver(overlap, probe, { 'x-probectl-token': secret })).statusCode).toBe(200);
      expect((await deliver(overlap, probe, { 'x-probectl-signature': hmac(secret, probe) })).statusCode).toBe(200);
    }
    expect((await deliver(overlap, probe, { 'x-probectl-token': 'sn-wrong-secret-000000000000' })).statusCode).toBe(401);

    // A real resolution with the old secret still works during the overlap.
    const inc = incidentFor(tenant);
    await overlap.incidents.openIncident(inc);
    // The reverse lookup reads the mirror: wait until the ticket's sys_id is there.
    const link = await eventually(async () => (await overlap.mirror.read(tenant, inc.id))?.links.find((l) => l.status === 'open'));
    const resolved = await deliver(overlap, JSON.stringify({ sys_id: link.externalRef, state: 6 }), { 'x-probectl-token': OLD });
    expect({ status: resolved.statusCode, body: resolved.json() }).toMatchObject({ status: 202 });
    const result = await overlap.incidents.result(inc.id);
    expect(result.source).toBe('servicenow');
    await overlap.stop();
    stacks.pop();

    const after = await startStack({ env: { PROBECTL_NOTIFY_CONNECTORS: connectors, PROBECTL_NOTIFY_INBOUND: `sn:${tenant}:servicenow:${NEW}` } });
    stacks.push(after);
    expect((await deliver(after, probe, { 'x-probectl-token': OLD })).statusCode).toBe(401);
    expect((await deliver(after, probe, { 'x-probectl-signature': hmac(OLD, probe) })).statusCode).toBe(401);
    expect((await deliver(after, probe, { 'x-probectl-token': NEW })).statusCode).toBe(200);
  });

  test('a third secret, or the id reused for another tenant, is a configuration error', async () => {
    const { parseInbound } = await import('../../src/config/inbound');
    expect(() => parseInbound(`a:t1:jira:${OLD},a:t1:jira:${NEW},a:t1:jira:third-secret-0123456789`)).toThrow(/at most 2 secrets/);
    expect(() => parseInbound(`a:t1:jira:${OLD},a:t2:jira:${NEW}`)).toThrow(/another tenant or provider/);
    expect(parseInbound(`a:t1:jira:${OLD},a:t1:jira:${NEW}`)[0]!.secrets).toHaveLength(2);
  });
});
