/**
 * Whose incident an accepted inbound delivery may signal (src/api/inbound/process.ts, signal.ts): every way the
 * incident is found (a reverse-lookup match in the tenant's mirror, the payload's probectl-<id> fallback) × every
 * owner the incident's workflow can have (the entry's tenant, running, paused or closed; another tenant,
 * likewise; a run without a tenant memo; no run at all) × both ways the signal is sent (inline in the request, and by
 * the dispatcher from a queued row). A signal is sent exactly when the run is the entry's tenant's and still open
 * (running, or paused: a paused run takes signals).
 *
 * The mirror outlives Temporal's retention: tenant A's link row may name an id that tenant B opened after A's run
 * was deleted. Pure: the mirror and Temporal are recording fakes.
 */
import type { IncidentClient } from '../../../src/client';
import type { DescribedRun } from '../../../src/client';
import { ConnectorDirectory, parseConnectors } from '../../../src/config/connectors';
import { parseInbound } from '../../../src/config/inbound';
import type { LeasedRow, OutboxSignal } from '../../../src/db/inbound-outbox';
import type { InboundLookup, MirrorStore, ReverseMatch } from '../../../src/db/mirror-store';
import { processDelivery, type Answer } from '../../../src/api/inbound/process';
import { signalAccepted } from '../../../src/api/inbound/signal';
import { TemporalHealth } from '../../../src/api/inbound/temporal-health';

const TENANT = 'tenant-a';
const INCIDENT = 'inc-42';
const [entry] = parseInbound(`sn-a:${TENANT}:servicenow:${'s'.repeat(32)}`);
const connectors = new ConnectorDirectory(parseConnectors(`${TENANT}|servicenow|https://a.service-now.com|admin:pw`));

type Owner = 'same, running' | 'same, paused' | 'same, closed' | 'other, running' | 'other, paused' | 'other, closed' | 'no tenant memo' | 'no run';
const OWNERS: Owner[] = ['same, running', 'same, paused', 'same, closed', 'other, running', 'other, paused', 'other, closed', 'no tenant memo', 'no run'];
/** A paused run still takes signals (they wait for it): it is as open as a running one. */
const OPEN: Owner[] = ['same, running', 'same, paused'];

function describe_(owner: Owner): DescribedRun | undefined {
  if (owner === 'no run') return undefined;
  const status = owner.endsWith('closed') ? 'COMPLETED' : owner.endsWith('paused') ? 'PAUSED' : 'RUNNING';
  const tenantId = owner.startsWith('same') ? TENANT : owner.startsWith('other') ? 'tenant-b' : undefined;
  return { tenantId, status, runId: 'run-1' } as DescribedRun;
}

function fakeIncidents(owner: Owner) {
  const calls: string[] = [];
  const incidents = {
    withDeadline: (_ms: number, fn: () => Promise<unknown>) => fn(),
    tenantOf: async (id: string) => {
      calls.push(`describe ${id}`);
      return describe_(owner);
    },
    resolve: async (id: string, s: { tenantId: string }) => void calls.push(`resolve ${id} as ${s.tenantId}`),
    acknowledge: async (id: string, s: { tenantId: string }) => void calls.push(`acknowledge ${id} as ${s.tenantId}`),
  } as unknown as IncidentClient;
  return { incidents, calls };
}

function fakeMirror(found: 'mirror match' | 'fallback') {
  const rows: LeasedRow[] = [];
  const lookup: InboundLookup = {
    findByExternalRef: async (): Promise<ReverseMatch[]> =>
      found === 'mirror match' ? [{ incidentId: INCIDENT, connectorId: 'servicenow', linkStatus: 'open', incidentStatus: 'open' }] : [],
    incidentStatus: async () => undefined,
    enqueue: async (s: OutboxSignal) => {
      const row: LeasedRow = { ...s, id: String(rows.length + 1), tenantId: TENANT, receivedAt: new Date(0).toISOString(), attempts: 1, leaseToken: 't' };
      rows.push(row);
      return row;
    },
  };
  const mirror = {
    inboundDelivery: async <T>(_t: string, _d: unknown, fn: (l: InboundLookup) => Promise<T>) => ({ duplicate: false, value: await fn(lookup) }),
    outbox: { markDone: async () => undefined, release: async () => undefined },
  } as unknown as MirrorStore;
  return { mirror, rows };
}

const event = {
  kind: 'resolved' as const,
  refs: { externalRef: 'sys-old', incidentKey: `probectl-${INCIDENT}` },
};

describe.each(['mirror match', 'fallback'] as const)('an accepted delivery found by %s', (found) => {
  test.each(OWNERS)('owner %s: inline, a signal exactly when the run is the tenant\'s and open', async (owner) => {
    const { incidents, calls } = fakeIncidents(owner);
    const { mirror } = fakeMirror(found);
    const answer: Answer = await processDelivery({ incidents, mirror, connectors, health: new TemporalHealth() }, entry!, event as never, undefined);
    const signalled = OPEN.includes(owner);
    expect(calls).toEqual([`describe ${INCIDENT}`, ...(signalled ? [`resolve ${INCIDENT} as ${TENANT}`] : [])]);
    if (signalled) expect(answer).toMatchObject({ outcome: 'accepted', incidentId: INCIDENT });
    else if (owner === 'same, closed') expect(answer).toEqual({ outcome: 'duplicate', why: 'the workflow is closed' });
    // Another tenant's run, closed or not, is answered as no incident at all: nothing tells the sender it exists.
    else expect(answer).toMatchObject({ outcome: 'ignored', code: 'unknown_ref' });
  });

  test.each(OWNERS)('owner %s: queued, the dispatcher\'s try checks the same', async (owner) => {
    const { mirror, rows } = fakeMirror(found);
    const down = new TemporalHealth();
    down.unreachable();
    const { incidents: none, calls: before } = fakeIncidents(owner);
    const answer = await processDelivery({ incidents: none, mirror, connectors, health: down }, entry!, event as never, undefined);
    expect(answer).toMatchObject({ outcome: 'accepted', queued: expect.anything() });
    expect(before).toEqual([]);
    const { incidents, calls } = fakeIncidents(owner);
    const outcome = await signalAccepted(incidents, rows[0]!, 1_000);
    const expected = OPEN.includes(owner) ? 'signalled' : owner === 'same, closed' ? 'closed' : 'not_owner';
    expect(outcome).toBe(expected);
    expect(calls.filter((c) => !c.startsWith('describe'))).toEqual(expected === 'signalled' ? [`resolve ${INCIDENT} as ${TENANT}`] : []);
  });
});
