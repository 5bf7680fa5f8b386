/**
 * Found by review, fixed: a link snapshot the workflow owed Postgres rides with every provider call scheduled
 * while it is owed (records.ts attach takes every owed non-stream item, whoever else carries it). A slow call
 * therefore writes, when it finally answers, a link state that a later call of that link's own connector has
 * already replaced — and MirrorStore.record lets any non-terminal link state overwrite another (upsertLink), so the
 * mirror goes back to the older state and stays there (the workflow owes nothing more for that link).
 *
 * Sequence: Jira's open is refused (link `failed`, owed); an acknowledgement goes out to both pagers, each call
 * carrying the owed `failed` Jira link; Opsgenie's acknowledgement is slow. The operator re-drives Jira, its
 * open succeeds and records `open` itself. Then Opsgenie's acknowledgement answers and records Jira `failed` again.
 * The workflow says `open`; the mirror (what the inbound reverse lookup, the runner's callback and the timeline API
 * read) says `failed`, until the resolve.
 *
 * The fix: a link write never replaces a newer state with an older one (MirrorStore upsertLink compares updated_at).
 *
 * Stubbed provider calls on the dev server that record into the run's real Postgres as the activities do
 * (test/workflow/records.ts).
 */
import type { ConnectorRef } from '../../src/config/connectors';
import { eventually } from '../helpers/shared';
import { incidentOf, refused, startHarness, type Harness } from './harness';
import { realMirror, resultWithin, type RealMirror } from './records';

jest.setTimeout(180_000);

const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'opsgenie', provider: 'opsgenie' },
  { id: 'jira', provider: 'jira' },
];
const at = () => new Date().toISOString();

describe('a link snapshot carried by a slow call', () => {
  let h: Harness;
  let db: RealMirror;
  beforeAll(async () => {
    db = realMirror();
    h = await startHarness({ connectors: CONNECTORS });
  });
  afterAll(async () => {
    h?.releaseAll();
    await h?.stop();
    await db?.close();
  });

  test('never overwrites the newer state its own connector recorded', async () => {
    const inc = incidentOf();
    let jiraOpens = 0;
    h.script.openConnector = async (c) => {
      if (c.input.connectorId === 'jira' && jiraOpens++ === 0) throw refused('Jira create: HTTP 400: project OPS does not exist');
      const externalRef = `${c.input.connectorId}-ref`;
      return { externalRef, ...(await db.recordCall(c.input as never, CONNECTORS.find((r) => r.id === c.input.connectorId)!.provider, 'open', 'connector.opened', { externalRef })) };
    };
    h.script.acknowledgeConnector = async (c) => db.recordCall(c.input as never, CONNECTORS.find((r) => r.id === c.input.connectorId)!.provider, 'acknowledged', 'connector.acknowledged');
    h.script.recordIncident = (c) => db.recordIncident(c.input as never);
    const jiraStatus = async () => (await db.mirror.read(inc.tenantId, inc.id))?.links.find((l) => l.connectorId === 'jira')?.status;

    // The workflow's own write of the failure is held, so the failed link is still owed when the acknowledgements go out.
    const write = h.hold('recordIncident', '');
    await h.start(inc);
    await eventually(() => write.held() === 1, { what: 'the write of the refused open under way' });
    const og = h.hold('acknowledgeConnector', 'opsgenie');
    await h.signal(inc.id, 'acknowledge', { tenantId: inc.tenantId, source: 'probectl', at: at() });
    await eventually(() => og.held() === 1, { what: 'the slow acknowledgement' });
    const ogCall = h.calls.find((c) => c.name === 'acknowledgeConnector' && c.input.connectorId === 'opsgenie' && c.input.incident.id === inc.id)!;
    expect(ogCall.input.record.owed.links).toEqual([expect.objectContaining({ connectorId: 'jira', status: 'failed' })]); // what it carries
    write.release();
    await eventually(async () => (await jiraStatus()) === 'failed', { what: 'the refused open in the mirror' });

    await h.signal(inc.id, 'redrive', { tenantId: inc.tenantId, connectorId: 'jira', actor: 'ops', at: at() });
    await eventually(async () => (await jiraStatus()) === 'open', { what: 'the re-driven open recorded by its own call' });
    og.release();
    await eventually(async () => (await h.state(inc.id)).links.find((l: { connectorId: string }) => l.connectorId === 'opsgenie')?.status === 'acknowledged', { what: 'the slow acknowledgement answered' });

    const workflow = (await h.state(inc.id)).links.find((l: { connectorId: string }) => l.connectorId === 'jira')?.status;
    expect(workflow).toBe('open');
    expect(await jiraStatus()).toBe(workflow);

    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'probectl', at: at() });
    await resultWithin(h.result(inc.id), 30_000, 'the resolve');
  });
});
