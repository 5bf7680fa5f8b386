import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config/load';
import { clientConnectionOptions, connectionOptions } from '../../src/config/temporal';
import { HttpClient, proxyFromEnv } from '../../src/http/client';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ConnectProxy } from '../helpers/connect-proxy';
import { eventually, sharedStack, uniqueId } from '../helpers/shared';
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

  // grpc-js reads these (lower-case only) when a channel is made; the Rust core of NativeConnection reads none.
  describe('Temporal connections never use the proxy variables (they are for provider calls)', () => {
    const VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy'] as const;
    const ALL = [...VARIABLES, 'no_grpc_proxy', 'no_proxy', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'];
    const saved = Object.fromEntries(ALL.map((k) => [k, process.env[k]]));
    const temporal = () => loadConfig({ TEMPORAL_ADDRESS: sharedStack().temporalAddress }).temporal;
    const withOnly = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      for (const k of ALL) delete process.env[k];
      process.env[name] = proxy.url;
      try {
        return await fn();
      } finally {
        for (const k of ALL) {
          if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
        }
      }
    };
    const reach = async (connection: Connection) => {
      try {
        await connection.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
    };

    test('control: a plain grpc-js connection does go through `http_proxy` (so the cases below can fail)', async () => {
      const before = proxy.tunnels.length;
      await withOnly('http_proxy', async () => reach(await Connection.connect({ address: sharedStack().temporalAddress })));
      expect(proxy.tunnels.slice(before)).toContain(sharedStack().temporalAddress.replace('localhost', '127.0.0.1'));
    });

    test.each(VARIABLES)('a client connection (API, CLI, the worker\'s client) with only `%s` set goes direct', async (name) => {
      const before = proxy.tunnels.length;
      await withOnly(name, async () => reach(await Connection.connect(clientConnectionOptions(temporal(), { 'grpc.initial_reconnect_backoff_ms': 250 }))));
      expect(proxy.tunnels.slice(before)).toEqual([]);
    });

    test.each(VARIABLES)('the worker\'s NativeConnection with only `%s` set goes direct', async (name) => {
      const before = proxy.tunnels.length;
      await withOnly(name, async () => {
        const native = await NativeConnection.connect(connectionOptions(temporal()));
        try {
          await native.workflowService.getSystemInfo({});
        } finally {
          await native.close();
        }
      });
      expect(proxy.tunnels.slice(before)).toEqual([]);
    });

    test('the caller\'s channel arguments are kept, and cannot turn the proxy back on', () => {
      const opts = clientConnectionOptions(temporal(), { 'grpc.max_reconnect_backoff_ms': 2_000, 'grpc.enable_http_proxy': 1 });
      expect(opts.channelArgs).toEqual({ 'grpc.max_reconnect_backoff_ms': 2_000, 'grpc.enable_http_proxy': 0 });
    });
  });
});
