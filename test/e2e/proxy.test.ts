import { HttpClient, proxyFromEnv } from '../../src/http/client';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ConnectProxy } from '../helpers/connect-proxy';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack } from '../helpers/stack';

describe('outbound through an HTTP(S) proxy', () => {
  let proxy: ConnectProxy;
  let pd: PagerDutyDouble;
  beforeAll(async () => {
    proxy = await new ConnectProxy().start();
    pd = await new PagerDutyDouble().start();
  });
  afterAll(async () => {
    await proxy.stop();
    await pd.stop();
  });

  test('proxy settings come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY, either case', () => {
    expect(proxyFromEnv({})).toBeUndefined();
    expect(proxyFromEnv({ https_proxy: 'http://p:3128', NO_PROXY: '.internal' })).toEqual({ httpsProxy: 'http://p:3128', noProxy: '.internal' });
  });

  test('a request goes through the proxy when one is configured, and bypasses it for NO_PROXY hosts', async () => {
    const port = new URL(pd.url).port;
    const via = new HttpClient({ timeoutMs: 5000, proxy: { httpProxy: proxy.url, httpsProxy: proxy.url } });
    const res = await via.send({ method: 'POST', url: `${pd.url}/v2/enqueue`, headers: { 'content-type': 'application/json' }, body: '{}' }, []);
    expect(res.status).toBe(400); // the double answered (invalid event) — through the tunnel
    expect(proxy.tunnels).toEqual([`127.0.0.1:${port}`]);
    await via.close();

    const bypass = new HttpClient({ timeoutMs: 5000, proxy: { httpProxy: proxy.url, noProxy: '127.0.0.1' } });
    await bypass.send({ method: 'POST', url: `${pd.url}/v2/enqueue`, headers: {}, body: '{}' }, []);
    expect(proxy.tunnels).toHaveLength(1);
    await bypass.close();
  });

  test('a whole incident lifecycle pages through the proxy', async () => {
    const tenant = uniqueId('px');
    const before = proxy.tunnels.length;
    const stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-proxy-0000000000000000`,
        HTTP_PROXY: proxy.url,
        HTTPS_PROXY: proxy.url,
        NO_PROXY: '',
      },
    });
    try {
      const inc = incidentFor(tenant);
      await stack.incidents.openIncident(inc);
      await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open');
      await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      await stack.incidents.result(inc.id);
      expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}` && a.status === 'resolved')).toHaveLength(1);
      expect(proxy.tunnels.length).toBeGreaterThan(before);
    } finally {
      await stack.stop();
    }
  });
});
