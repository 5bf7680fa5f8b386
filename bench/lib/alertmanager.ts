/**
 * Alertmanager beside us: the binary (scripts/alertmanager.sh builds v0.35.0 from its Go module once into the
 * cache), a configuration whose receivers point at the bench's loopback doubles, the process, and the v2 API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { JIRA, OG_KEY, SLACK_PATH, TEAMS_SIG, routingKey, type Fleet } from './fleet';

export const ALERTMANAGER_VERSION = 'v0.35.0';
export const INTEGRATIONS = ['pagerduty', 'opsgenie', 'slack', 'msteamsv2', 'jira'];

export type BinaryResult = { bin: string; buildSeconds?: number; built: boolean } | { skipped: string };

/**
 * The binary's path, building it on first use (progress lines go to `log`). `{ skipped }` when there is no Go
 * toolchain (the script's exit 3); any other failure throws.
 */
export async function alertmanagerBinary(root: string, log: (msg: string) => void): Promise<BinaryResult> {
  const child = spawn('bash', [join(root, 'scripts', 'alertmanager.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ALERTMANAGER_VERSION } });
  let out = '';
  let built = false;
  let buildSeconds: number | undefined;
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  let pending = '';
  child.stderr.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const m = /^built .* in (\d+)s/.exec(line);
      if (m) {
        built = true;
        buildSeconds = Number(m[1]);
      }
      log(`alertmanager: ${line.trim()}`);
    }
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (pending.trim()) log(`alertmanager: ${pending.trim()}`);
  if (code === 3) return { skipped: `no Go toolchain to build Alertmanager ${ALERTMANAGER_VERSION} (install Go >= 1.26, or set ALERTMANAGER_BIN)` };
  if (code !== 0) throw new Error(`scripts/alertmanager.sh exited with ${code}`);
  return { bin: out.trim().split('\n').pop()!, built, ...(buildSeconds !== undefined ? { buildSeconds } : {}) };
}

/** The last build's time as the script recorded it (cache/build-seconds), when there is one. */
export function recordedBuildSeconds(bin: string): number | undefined {
  try {
    return Number(readFileSync(join(bin, '..', 'build-seconds'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export interface AlertmanagerSettings {
  groupInterval: string;
  repeatInterval: string;
}

/**
 * Every alert its own group (grouped by the `incident` label, no group wait); one receiver with the five
 * integrations that have a double: PagerDuty (Events v2, routing key), Opsgenie, Slack (message_text set, so
 * the webhook gets a `text` as Slack requires), Teams (msteamsv2, a Workflows webhook) and Jira. ServiceNow has
 * no Alertmanager integration. The templates are Alertmanager's defaults except where a double needs a field.
 */
export function alertmanagerConfig(fleet: Fleet, s: AlertmanagerSettings): Record<string, unknown> {
  return {
    route: {
      receiver: 'probectl-bench',
      group_by: ['incident'],
      group_wait: '0s',
      group_interval: s.groupInterval,
      repeat_interval: s.repeatInterval,
    },
    receivers: [{
      name: 'probectl-bench',
      pagerduty_configs: [{ routing_key: routingKey(0), url: `${fleet.pd.url}/v2/enqueue` }],
      // Alertmanager appends v2/alerts to api_url.
      opsgenie_configs: [{ api_key: OG_KEY, api_url: `${fleet.og.url}/` }],
      slack_configs: [{
        api_url: `${fleet.slack.url}${SLACK_PATH}`,
        channel: '#probectl',
        message_text: '{{ .CommonLabels.incident }}: {{ .CommonAnnotations.summary }}',
      }],
      msteamsv2_configs: [{ webhook_url: `${fleet.teams.url}${fleet.teams.path}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}` }],
      jira_configs: [{
        api_url: `${fleet.jira.url}/rest/api/2`,
        api_type: 'datacenter',
        project: 'OPS',
        issue_type: 'Incident',
        http_config: { basic_auth: { username: JIRA.email, password: JIRA.apiToken } },
      }],
    }],
  };
}

export class Alertmanager {
  process?: ChildProcess;
  url = '';
  #out = '';
  readonly #agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

  constructor(readonly bin: string, readonly dir: string) {}

  async start(config: Record<string, unknown>, port: number): Promise<void> {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const file = join(this.dir, 'alertmanager.yml');
    writeFileSync(file, stringify(config));
    this.url = `http://127.0.0.1:${port}`;
    // No cluster (no gossip listener; the wait stage then waits for no peer), loopback only.
    this.process = spawn(this.bin, [
      `--config.file=${file}`, `--storage.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => void (this.#out = (this.#out + d.toString()).slice(-20_000));
    this.process.stdout!.on('data', keep);
    this.process.stderr!.on('data', keep);
    const by = Date.now() + 30_000;
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`alertmanager exited with ${this.process.exitCode}: ${this.#out.slice(-2000)}`);
      const ok = await request(`${this.url}/-/ready`, { dispatcher: this.#agent }).then(async (r) => (await r.body.text(), r.statusCode === 200), () => false);
      if (ok) return;
      if (Date.now() > by) throw new Error(`alertmanager not ready within 30 s: ${this.#out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  output(): string {
    return this.#out;
  }

  /** POST /api/v2/alerts with one firing alert for `incidentId`. */
  async fire(incidentId: string, title: string, summary: string): Promise<{ ms: number; status: number }> {
    const t = performance.now();
    const r = await request(`${this.url}/api/v2/alerts`, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{
        labels: { alertname: 'ProbectlIncident', incident: incidentId, severity: 'critical' },
        annotations: { summary: title, description: summary },
        startsAt: new Date().toISOString(),
      }]),
    });
    await r.body.text();
    return { ms: performance.now() - t, status: r.statusCode };
  }

  /** Alertmanager's own count of failed notifications, per integration of the bench's receiver (its /metrics). */
  async failedNotifications(): Promise<Record<string, number>> {
    const r = await request(`${this.url}/metrics`, { dispatcher: this.#agent });
    const text = await r.body.text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^alertmanager_notifications_failed_total\{([^}]*)\} (\S+)$/gm)) {
      const integration = /integration="([^"]+)"/.exec(m[1]!)?.[1] ?? '?';
      if (!INTEGRATIONS.includes(integration)) continue;
      out[integration] = (out[integration] ?? 0) + Number(m[2]);
    }
    return out;
  }

  async stop(): Promise<void> {
    const p = this.process;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await this.#agent.close();
  }
}
