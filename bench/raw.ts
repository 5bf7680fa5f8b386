/**
 * The raw fan-out baseline: the same six provider calls the worker makes, made directly by a plain script —
 * the connectors' request builders and the one HttpClient, no Temporal, no database, no pacing. Run as its
 * own process by bench/main.ts; argv[2] is a JSON plan; each call's start time is printed as a JSON line, and
 * the doubles (in the parent) stamp the arrivals, exactly as for the durable path.
 */
import { HttpClient } from '../src/http/client';
import { connectorFor } from '../src/providers/registry';
import type { CallContext, OpenOutcome } from '../src/providers/types';
import { ConnectorDirectory, parseConnectors } from '../src/config/connectors';
import type { Incident } from '../src/shared/contract';
import { paced, sleep } from './lib/pace';

export interface RawPlan {
  connectors: string;
  tenants: string[];
  idPrefix: string;
  tag: string;
  rate: number;
  durationMs: number;
  /** Then resolve every incident (all but PagerDuty, as for an inbound PagerDuty resolution) at `rate`. */
  resolve: boolean;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]!) as RawPlan;
  const directory = new ConnectorDirectory(parseConnectors(plan.connectors));
  const http = new HttpClient({ timeoutMs: 10_000 });
  const out: string[] = [];
  const opened: Array<{ incident: Incident; links: Map<string, OpenOutcome> }> = [];
  const ctx = (c: CallContext['connector']): CallContext => ({ connector: c, http, attempt: 1 });
  let failures = 0;

  const pace = await paced(plan.rate, plan.durationMs, async (i) => {
    const tenantId = plan.tenants[i % plan.tenants.length]!;
    const incident: Incident = {
      id: `${plan.idPrefix}-${plan.tag}-${i}`, tenantId, title: 'Packet loss on edge-router-3 uplink', severity: 'critical',
      summary: '14% loss towards AS64500 for 5 minutes', source: 'probectl', openedAt: new Date().toISOString(),
    };
    const links = new Map<string, OpenOutcome>();
    const t0 = Date.now();
    out.push(JSON.stringify({ kind: 'open', id: incident.id, t0 }));
    await Promise.all(
      directory.forTenant(tenantId).map(async (c) => {
        try {
          links.set(c.provider, await connectorFor(c.provider)!.open(ctx(c), incident));
        } catch {
          failures += 1;
        }
      }),
    );
    opened.push({ incident, links });
  });

  let resolvePace;
  if (plan.resolve) {
    await sleep(500);
    resolvePace = await paced(plan.rate, (opened.length * 1000) / plan.rate, async (i) => {
      const { incident, links } = opened[i]!;
      const t0 = Date.now();
      out.push(JSON.stringify({ kind: 'resolve', id: incident.id, t0 }));
      await Promise.all(
        directory.forTenant(incident.tenantId).filter((c) => c.provider !== 'pagerduty').map(async (c) => {
          const ref = links.get(c.provider)?.externalRef;
          try {
            await connectorFor(c.provider)!.resolve(ctx(c), incident, ref ? { externalRef: ref } : {}, { source: 'pagerduty', actor: 'bench' });
          } catch {
            failures += 1;
          }
        }),
      );
    });
  }
  await http.close();
  out.push(JSON.stringify({ kind: 'done', pace, resolvePace, failures }));
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`raw baseline failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
