/**
 * The Temporal UI shows an incident the way an SRE needs it: a headless Chromium (Debian's package,
 * installed by scripts/ensure-chromium.sh; a missing browser fails this test, it never skips) opens the dev
 * server's UI for one running incident and finds the static summary, the current-details table and the
 * activity summaries. The screenshot is kept as test-artifacts/ui-incident.png.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { incidentSummary } from '../../src/client';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, freePort, startDevServer, type DevServer } from '../setup/temporal-server';

const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const ROUTING_KEY = 'R0UT1NGKEYuiTest0000000000000001';

jest.setTimeout(240_000);

/** The browser, installed on demand; throws (fails the test) when it cannot be had. */
function chromiumPath(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-chromium.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`no Chromium for the UI test (scripts/ensure-chromium.sh): ${r.stderr.slice(-2000)}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

describe('the Temporal UI for one incident', () => {
  let server: DevServer;
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let browser: BrowserContext | undefined;
  let uiPort: number;
  const profile = mkdtempSync(join(tmpdir(), 'probectl-ui-chromium-'));
  const dbFile = join(ARTIFACTS, `temporal-ui-${process.pid}.sqlite`);
  const tenant = uniqueId('ui');

  beforeAll(async () => {
    const executablePath = chromiumPath();
    uiPort = await freePort();
    server = await startDevServer({ cli: findTemporalCli(), dbFile, uiPort });
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      temporalAddress: server.address,
      // Off: the run reads its begin snapshot itself, so the history holds the local activity whose summary is checked
      // below (a run given the API's snapshot has no such event; whether it is given depends on when the API's gate
      // first sees the worker).
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}`, PROBECTL_NOTIFY_BEGIN_IN_START: 'off' },
    });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
      ],
      viewport: { width: 1600, height: 1400 },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await pd?.stop();
    await server?.stop();
    rmSync(profile, { recursive: true, force: true });
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });

  test('summary, current-details table and activity summaries are shown', async () => {
    const inc = incidentFor(tenant, { title: 'Packet loss on edge-router-3 uplink' });
    const key = `probectl-${inc.id}`;
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { what: 'the page' });
    await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: 'sig-1', summary: 'flap', at: new Date().toISOString() });
    await eventually(async () => ((await stack.incidents.getIncident(inc.id)) as { correlationCount?: number }).correlationCount === 1);
    // The incident stays open (running): the UI asks a worker for current details only while it runs.

    const page: Page = await browser!.newPage();
    const url = `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${key}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    const summary = incidentSummary(inc);
    try {
      // History tab (the default): every activity carries its summary in the timeline and the event table.
      await page.getByText(`PagerDuty: trigger ${key}`, { exact: false }).first().waitFor({ timeout: 60_000 });
      await page.getByText('begin: snapshot the connectors', { exact: false }).first().waitFor({ timeout: 30_000 });
      await page.getByText('mirror: record', { exact: false }).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'ui-incident-history.png'), fullPage: true });

      // User Metadata tab: the static summary and details, and the current details the worker answers.
      await page.getByText('User Metadata', { exact: true }).first().click();
      await page.getByText('Current Details', { exact: true }).first().waitFor({ timeout: 30_000 });
      // The UI renders the markdown (summary, details, current details) in sandboxed frames: read every frame.
      const allText = async () => (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n');
      await eventually(async () => (await allText()).includes(summary), { timeoutMs: 60_000, intervalMs: 500, what: 'the static summary' });
      const table = (...texts: string[]) => eventually(async () => {
        for (const frame of page.frames()) {
          const t = texts.reduce((loc, text) => loc.filter({ hasText: text }), frame.locator('table'));
          if ((await t.count()) > 0) return t.first().innerText();
        }
        return undefined;
      }, { timeoutMs: 60_000, intervalMs: 500, what: `a table with ${texts.join(', ')}` });
      const current = await table('connector', 'state', 'PagerDuty', key);
      expect(current).toMatch(new RegExp(`PagerDuty\\s+${key}\\s+open`));
      expect(await allText()).toMatch(/Correlated signals:\s*1/);
      // The static details table (tenant, severity) and the activity summaries listed beside them.
      const details = await table('severity', tenant);
      expect(details).toContain('critical');
      await page.getByText(`PagerDuty: trigger ${key}`, { exact: false }).first().waitFor({ timeout: 30_000 });
    } finally {
      // Kept on success and on failure: what the UI really showed.
      await page.screenshot({ path: join(ARTIFACTS, 'ui-incident.png'), fullPage: true });
      writeFileSync(join(ARTIFACTS, 'ui-incident.txt'), await page.locator('body').innerText());
    }

    // Leave nothing running.
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
  });
});
