/**
 * Answers cut short, the whole family: every connector's open, through the real HttpClient, against its loopback
 * double behind a proxy that cuts one of the answers of the open's flow — every answer of the flow × every offset of
 * its body × three framings (Content-Length, then the connection closed early; no length, the connection closed at the
 * cut, so the body ends "cleanly"; chunked, closed inside a chunk) × every offset of its status line and headers. The
 * provider carried the request out each time, so what the connector reports must never say it refused it (a refusal
 * on an open's first try is left alone at the resolve: refused-opens-v1), and an answer it accepts must name the
 * object the provider made (the same one an open sent again, uncut, adopts or names).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpClient, TransportError } from '../../../src/http/client';
import { jira } from '../../../src/providers/jira/connector';
import { opsgenie } from '../../../src/providers/opsgenie/connector';
import { pagerduty } from '../../../src/providers/pagerduty/connector';
import { servicenow } from '../../../src/providers/servicenow/connector';
import { messageRef } from '../../../src/providers/slack/build';
import { slack } from '../../../src/providers/slack/connector';
import { teams } from '../../../src/providers/teams/connector';
import type { Connector } from '../../../src/providers/types';
import { JiraDouble } from '../../../dev/doubles/jira';
import { OpsgenieDouble } from '../../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../../dev/doubles/pagerduty';
import type { DoubleServer } from '../../../dev/doubles/server';
import { ServiceNowDouble } from '../../../dev/doubles/servicenow';
import { SlackDouble } from '../../../dev/doubles/slack';
import { TeamsDouble } from '../../../dev/doubles/teams';
import { GOLDEN_INCIDENT, callContext, connectorFrom, outcomeOf } from '../../helpers/retry-table';

jest.setTimeout(300_000);

type Framing = 'length' | 'close' | 'chunked' | 'headers';
interface Cut {
  /** Which answer of the flow, counted from 0 since the case started. */
  answer: number;
  framing: Framing;
  /** Bytes of the body sent (`headers`: bytes of the status line and headers sent, and nothing after). */
  at: number;
}
interface Answer { status: number; headers: Record<string, string>; body: Buffer }

/**
 * A proxy in front of a double: forwards each request, and writes the double's answer itself on the raw socket — whole,
 * or cut as `cut` says — then closes the connection. Records each whole answer of the case.
 */
class CuttingProxy {
  #server: Server | undefined;
  cut: Cut | undefined;
  answers: Answer[] = [];
  /** What went wrong inside the proxy itself (a case it could not serve is no case). */
  errors: string[] = [];
  readonly #sockets = new Set<Socket>();
  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      this.#serve(req, res.socket!).catch((err: unknown) => {
        this.errors.push(String(err));
        res.socket?.destroy();
      });
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }

  async #serve(req: IncomingMessage, socket: Socket): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
    const upstream = await fetch(`${this.target}${req.url}`, { method: req.method, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    const answer: Answer = { status: upstream.status, headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }, body: Buffer.from(await upstream.arrayBuffer()) };
    const index = this.answers.push(answer) - 1;
    const cut = this.cut?.answer === index ? this.cut : undefined;
    socket.end(wire(answer, cut));
  }
}

/** The answer as bytes on the wire, whole or cut. */
function wire(a: Answer, cut: Cut | undefined): Buffer {
  const framing = cut?.framing ?? 'length';
  const head = (extra: string) => Buffer.from(`HTTP/1.1 ${a.status} X\r\ncontent-type: ${a.headers['content-type']}\r\n${extra}connection: close\r\n\r\n`);
  if (!cut) return Buffer.concat([head(`content-length: ${a.body.length}\r\n`), a.body]);
  const part = a.body.subarray(0, cut.at);
  switch (framing) {
    case 'length': return Buffer.concat([head(`content-length: ${a.body.length}\r\n`), part]);
    case 'close': return Buffer.concat([head(''), part]);
    case 'chunked': return Buffer.concat([head('transfer-encoding: chunked\r\n'), Buffer.from(`${a.body.length.toString(16)}\r\n`), part]);
    case 'headers': return head(`content-length: ${a.body.length}\r\n`).subarray(0, cut.at);
  }
}

const headerLength = (a: Answer) => wire(a, undefined).length - a.body.length;

interface Flow {
  name: string;
  double: () => DoubleServer;
  entry: (url: string) => string;
  connector: Connector<any>;
  /** Attempt 2 of a Jira open searches for the incident (more than once when it is not found) before it creates. */
  attempt: number;
  /**
   * The externalRef of the object the provider made for the incident, read off the double; without it, what an open
   * sent again (attempt 2, uncut) names — the alert by its key, the ticket its lookup adopts.
   */
  made?: (d: DoubleServer, incidentId: string) => string | undefined;
}

const SN = 'probectl.integration:S3cret!';
const FLOWS: Flow[] = [
  {
    name: 'PagerDuty trigger', double: () => new PagerDutyDouble(), entry: (u) => `acme|pagerduty|${u}/v2/enqueue|R0UT1NGKEYgolden000000000000000001`, connector: pagerduty, attempt: 1,
    // The open names the alert by the incident's key: the double must hold exactly that one alert.
    made: (d, id) => {
      const alerts = (d as PagerDutyDouble).alerts.filter((a) => a.dedupKey === `probectl-${id}`);
      return alerts.length === 1 ? alerts[0]!.dedupKey : `${alerts.length} alerts`;
    },
  },
  { name: 'Opsgenie create and status read', double: () => new OpsgenieDouble({ apiKey: 'eb243592-faa2-4ba2-a551-1afdf565c889', processingMs: 0 }), entry: (u) => `acme|opsgenie|${u}/v2/alerts|eb243592-faa2-4ba2-a551-1afdf565c889`, connector: opsgenie, attempt: 1 },
  {
    name: 'Slack webhook', double: () => new SlackDouble({ webhookPath: '/services/T0ACME/B0ACME/golden' }), entry: (u) => `acme|slack|${u}/services/T0ACME/B0ACME/golden|`, connector: slack, attempt: 1,
    // A webhook post has no id: the open names it by the incident's key, and the double must hold exactly one post.
    made: (d, id) => {
      const posted = (d as SlackDouble).messages.filter((m) => JSON.stringify(m).includes(id));
      return posted.length === 1 ? `probectl-${id}` : `${posted.length} posts`;
    },
  },
  { name: 'Slack chat.postMessage', double: () => new SlackDouble({ webhookPath: '/services/x', botToken: 'xoxb-golden-token', channels: ['C0PROBECTL'] }), entry: (u) => `acme|slack|${u}/api/chat.postMessage?channel=C0PROBECTL|xoxb-golden-token`, connector: slack, attempt: 1,
    made: (d, id) => {
      const posted = (d as SlackDouble).messages.filter((m) => JSON.stringify(m).includes(id));
      return posted.length === 1 ? messageRef(posted[0]!.channel, posted[0]!.ts) : `${posted.length} posts`;
    },
  },
  {
    name: 'Teams workflow', double: () => new TeamsDouble({ sig: 'GoldenSig', path: '/workflows/abc/triggers/manual/paths/invoke' }),
    entry: (u) => `acme|teams|${u}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=GoldenSig&min_severity=info|`, connector: teams, attempt: 1,
  },
  // ServiceNow looks the incident up before every create, the first attempt's too.
  { name: 'ServiceNow lookup, then create', double: () => new ServiceNowDouble({ user: 'probectl.integration', password: 'S3cret!' }), entry: (u) => `acme|servicenow|${u}|${SN}`, connector: servicenow, attempt: 1 },
  { name: 'Jira create', double: () => new JiraDouble({ email: 'alice@acme.com', apiToken: 'ATATT3xGoldenToken' }), entry: (u) => `acme|jira|${u}/rest/api/2/issue?project=OPS|alice@acme.com:ATATT3xGoldenToken`, connector: jira, attempt: 1 },
  { name: 'Jira search, then create', double: () => new JiraDouble({ email: 'alice@acme.com', apiToken: 'ATATT3xGoldenToken' }), entry: (u) => `acme|jira|${u}/rest/api/2/issue?project=OPS|alice@acme.com:ATATT3xGoldenToken`, connector: jira, attempt: 2 },
];

describe.each(FLOWS)('$name: every answer of the open cut at every offset', (flow) => {
  let double: DoubleServer;
  let proxy: CuttingProxy;
  let url: string;
  const http = new HttpClient({ timeoutMs: 5_000 });
  beforeAll(async () => {
    double = await flow.double().start();
    proxy = new CuttingProxy(double.url);
    url = await proxy.start();
  });
  afterAll(async () => {
    await http.close();
    await proxy?.stop();
    await double?.stop();
  });

  test('never a refusal; an accepted cut answer names the object the provider made', async () => {
    const ctx = (attempt: number) => callContext(connectorFrom(flow.entry(url)), http, attempt);
    let n = 0;
    // Ids of one width: every case's answers are as long as the whole flow's (PagerDuty and Opsgenie echo the id).
    const incident = () => ({ ...GOLDEN_INCIDENT, id: `cut-${String(++n).padStart(6, '0')}` });
    // The flow whole, once: its answers are what the cases cut.
    proxy.cut = undefined;
    proxy.answers = [];
    await flow.connector.open(ctx(flow.attempt), incident());
    const whole = proxy.answers.slice();
    expect(whole.length).toBeGreaterThan(0);
    expect(whole.every((a) => a.status >= 200 && a.status < 300)).toBe(true);

    const cuts: Cut[] = [];
    for (const [answer, a] of whole.entries()) {
      for (const framing of ['length', 'close', 'chunked'] as const) for (let at = 0; at < a.body.length; at++) cuts.push({ answer, framing, at });
      for (let at = 0; at < headerLength(a); at++) cuts.push({ answer, framing: 'headers', at });
    }
    const tally: Record<string, number> = {};
    const wrong: string[] = [];
    for (const cut of cuts) {
      const inc = incident();
      proxy.cut = cut;
      proxy.answers = [];
      let opened: { externalRef?: string } | undefined;
      const what = `${cut.framing} cut of answer ${cut.answer} at ${cut.at}`;
      // As the activity ends it (connector-activities.ts rethrow): a transport error is retried; anything else a
      // connector throws must be one of its classified failures.
      const { outcome, failure } = await outcomeOf(async () => (opened = await flow.connector.open(ctx(flow.attempt), inc)))
        .catch((err: unknown) => (err instanceof TransportError ? { outcome: 'retried' as const, failure: { type: `TransportError ${err.code}`, message: err.message } } : { outcome: 'unclassified' as const, failure: { type: String((err as Error)?.name), message: String((err as Error)?.message) } }));
      tally[`${outcome}${failure ? ` ${failure.type}` : ''}`] = (tally[`${outcome}${failure ? ` ${failure.type}` : ''}`] ?? 0) + 1;
      // The case was one: the flow reached the answer to cut, with the status the whole flow had there, and the cut
      // fell short of its end (a Jira key's number grows from case to case, so the length is not fixed).
      const reached = proxy.answers[cut.answer];
      if (!reached || reached.status !== whole[cut.answer]!.status || (cut.framing !== 'headers' && cut.at >= reached.body.length)) {
        wrong.push(`${what}: not reached as measured (${reached ? `HTTP ${reached.status}, ${reached.body.length} bytes` : `${proxy.answers.length} answers`})`);
        continue;
      }
      if (outcome === 'unclassified') {
        wrong.push(`${what}: an unclassified ${failure.type}: ${failure.message.slice(0, 120)}`);
        continue;
      }
      if (outcome === 'permanent') {
        wrong.push(`${what}: reported as refused (${failure?.type}: ${failure?.message.slice(0, 120)})`);
        continue;
      }
      if (outcome !== 'ok') continue;
      // Accepted: it must name what the provider made.
      proxy.cut = undefined;
      const made = flow.made ? flow.made(double, inc.id) : (await flow.connector.open(ctx(2), inc)).externalRef;
      if (opened?.externalRef !== made) wrong.push(`${what}: accepted as ${JSON.stringify(opened)}, the provider's object is ${JSON.stringify(made)}`);
    }
    console.log(`${flow.name}: ${cuts.length} cut answers over ${whole.length} answer(s): ${JSON.stringify(tally)}`);
    expect(wrong).toEqual([]);
    expect(proxy.errors).toEqual([]);
    // A cut answer ends at once (the connection closes): a time-out would be a case the proxy failed to serve.
    expect(Object.keys(tally).filter((k) => k.includes('ETIMEDOUT'))).toEqual([]);
  });
});
