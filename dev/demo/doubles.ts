/**
 * The demo tenant's sandbox: one loopback double per implemented provider (registry.ts), and the
 * connector entry that points at it. Demo credentials only; nothing leaves the machine.
 */
import { SHIPPED_PROVIDERS } from '../../src/providers/registry';
import type { Provider } from '../../src/shared/contract';
import { JiraDouble } from '../doubles/jira';
import { OpsgenieDouble } from '../doubles/opsgenie';
import { PagerDutyDouble } from '../doubles/pagerduty';
import type { DoubleServer } from '../doubles/server';
import { ServiceNowDouble } from '../doubles/servicenow';
import { SlackDouble } from '../doubles/slack';
import { TeamsDouble } from '../doubles/teams';

export interface SandboxDouble {
  provider: Provider;
  double: DoubleServer;
  /** `tenant|provider|url|credential` for PROBECTL_NOTIFY_CONNECTORS. */
  entry(tenant: string): string;
  /** What the double holds now, in a few words (alerts, posts, tickets). */
  describe(): string;
}

const SNOW = { user: 'probectl.demo', password: 'demo-Passw0rd-123456' };
const SLACK_PATH = '/services/T0DEMO/B0DEMO/demoWebhookSecret0001';

type Factory = () => Promise<SandboxDouble>;

const FACTORIES: Record<Provider, Factory> = {
  pagerduty: async () => {
    const d = await new PagerDutyDouble().start();
    return {
      provider: 'pagerduty', double: d,
      entry: (t) => `${t}|pagerduty|${d.url}/v2/enqueue|demoRoutingKey00000000000000001`,
      describe: () => d.alerts.map((a) => `alert ${a.dedupKey} ${a.status}`).join(', ') || 'no alert',
    };
  },
  opsgenie: async () => {
    const d = await new OpsgenieDouble({ apiKey: 'demo-genie-key-0000000000000001' }).start();
    return {
      provider: 'opsgenie', double: d,
      entry: (t) => `${t}|opsgenie|${d.url}/v2/alerts|demo-genie-key-0000000000000001`,
      describe: () => d.alerts.map((a) => `alert ${a.alias} ${a.status}`).join(', ') || 'no alert',
    };
  },
  slack: async () => {
    const d = await new SlackDouble({ webhookPath: SLACK_PATH }).start();
    return {
      provider: 'slack', double: d,
      entry: (t) => `${t}|slack|${d.url}${SLACK_PATH}|`,
      describe: () => `${d.messages.length} message(s)`,
    };
  },
  teams: async () => {
    const d = new TeamsDouble({ sig: 'DemoSignature0001' });
    await d.start();
    return {
      provider: 'teams', double: d,
      entry: (t) => `${t}|teams|${d.url}${d.path}?api-version=2016-06-01&sig=DemoSignature0001|`,
      describe: () => `${d.posts.length} card(s)`,
    };
  },
  servicenow: async () => {
    const d = await new ServiceNowDouble(SNOW).start();
    return {
      provider: 'servicenow', double: d,
      entry: (t) => `${t}|servicenow|${d.url}|${SNOW.user}:${SNOW.password}`,
      describe: () => d.tickets.map((x) => `ticket ${x.number} state ${x.state}`).join(', ') || 'no ticket',
    };
  },
  jira: async () => {
    const d = await new JiraDouble({ email: 'demo@example.com', apiToken: 'demo-jira-token-000000000001' }).start();
    return {
      provider: 'jira', double: d,
      entry: (t) => `${t}|jira|${d.url}/rest/api/2/issue?project=OPS|demo@example.com:demo-jira-token-000000000001`,
      describe: () => d.issues.map((i) => `issue ${i.key} ${i.status.name}`).join(', ') || 'no issue',
    };
  },
};

/** One double per provider that has a connector implementation, in the registry's order. */
export async function startSandbox(): Promise<SandboxDouble[]> {
  const providers: Provider[] = [...SHIPPED_PROVIDERS];
  const started: SandboxDouble[] = [];
  try {
    for (const p of providers) started.push(await FACTORIES[p]());
  } catch (err) {
    await Promise.all(started.map((s) => s.double.stop()));
    throw err;
  }
  return started;
}

/** The ServiceNow double's ticket for a sys_id (the link's external reference). */
export function serviceNowTicket(sandbox: SandboxDouble[], sysId: string) {
  const sn = sandbox.find((s) => s.provider === 'servicenow')?.double as ServiceNowDouble | undefined;
  return sn?.tickets.find((t) => t.sys_id === sysId);
}
