/**
 * What the Temporal UI shows for an incident: one-line summaries of every activity call and the
 * current-details markdown (a table of connectors, their refs and states). Pure functions of the state;
 * no secret can reach them (links hold identities and external references only).
 */
import type { ConnectorRef } from '../config/connectors';
import type { Incident, IncidentStatus, Link, Provider } from '../shared/contract';
import { incidentKey } from '../shared/ids';
import { truncate } from '../shared/text';
import { capsOfRef } from './capabilities';

/** "PagerDuty" or, for a named connector, "Jira ops-eu" (the provider's UI name from the snapshot's caps). */
export function connectorLabel(ref: Pick<ConnectorRef, 'id' | 'provider' | 'caps'>): string {
  const name = capsOfRef(ref).name;
  return ref.id === ref.provider ? name : `${name} ${ref.id}`;
}

/** Activity summaries are single lines; the UI shows about this much. */
const SUMMARY_MAX = 120;
const line = (s: string) => truncate(s.replace(/\s+/g, ' '), SUMMARY_MAX);

/** What an open does, per provider. */
export function openSummary(ref: ConnectorRef, incident: Incident): string {
  const key = incidentKey(incident.id);
  const what = capsOfRef(ref).open.replace('{key}', key);
  return line(`${connectorLabel(ref)}: ${what}`);
}

export function acknowledgeSummary(ref: ConnectorRef, link: Link | undefined): string {
  return line(`${connectorLabel(ref)}: acknowledge ${link?.externalRef ?? ''}`.trim());
}

export function resolveSummary(ref: ConnectorRef, link: Link | undefined, again: boolean): string {
  const verb = capsOfRef(ref).kind === 'chat' ? 'post the resolution' : 'resolve';
  const ref_ = link?.externalRef ? ` ${link.externalRef}` : '';
  return line(`${connectorLabel(ref)}: ${again ? 'resolve again (late-trigger guard)' : verb}${ref_}`);
}

export function mirrorSummary(batch: { timeline: unknown[]; links: unknown[] }): string {
  if (batch.timeline.length === 0 && batch.links.length === 0) return 'mirror: write the incident status';
  const parts = [
    `${batch.timeline.length} timeline ${batch.timeline.length === 1 ? 'entry' : 'entries'}`,
    ...(batch.links.length > 0 ? [`${batch.links.length} ${batch.links.length === 1 ? 'link' : 'links'}`] : []),
  ];
  return `mirror: write ${parts.join(', ')}`;
}

export const BEGIN_SUMMARY = 'begin: snapshot the connectors, read the mirror';

export function reportSummary(type: string): string {
  return `probectl: report ${type}`;
}

/** The timeline detail of `connector.opened`: paged, posted or ticket opened, with the provider and ref. */
export function openedDetail(ref: ConnectorRef, externalRef: string): string {
  const kind = capsOfRef(ref).kind;
  const verb = kind === 'pager' ? 'paged via' : kind === 'chat' ? 'posted to' : 'ticket opened in';
  return truncate(`${verb} ${connectorLabel(ref)}: ${externalRef}`, 500);
}

const cell = (s: string) => truncate(s.replace(/\s+/g, ' ').replace(/\|/g, '\\|'), 80);

/** The current-details markdown: status line and one row per connector. */
export function currentDetails(v: {
  incident: Incident;
  status: IncidentStatus;
  connectors: ConnectorRef[];
  links: Record<string, Link>;
  correlationCount: number;
  resolution?: { source: string; actor?: string };
  acknowledgement?: { source: string; actor?: string };
  run: number;
}): string {
  const by = (x: { source: string; actor?: string }) => (x.actor ? `${x.actor} via ${x.source}` : x.source);
  const head = [
    `**Status:** ${v.status}`,
    `**Severity:** ${v.incident.severity}`,
    `**Tenant:** ${v.incident.tenantId}`,
    `**Correlated signals:** ${v.correlationCount}`,
    ...(v.acknowledgement ? [`**Acknowledged by:** ${cell(by(v.acknowledgement))}`] : []),
    ...(v.resolution ? [`**Resolved by:** ${cell(by(v.resolution))}`] : []),
    ...(v.run > 1 ? [`**Run:** ${v.run} (continued-as-new)`] : []),
  ].join(' · ');
  const title = `### ${cell(v.incident.title)}`;
  const ids = new Set([...v.connectors.map((c) => c.id), ...Object.keys(v.links)]);
  if (ids.size === 0) return `No connectors yet.\n\n${head}\n\n${title}`;
  const rows = [...ids].map((id) => {
    const ref = v.connectors.find((c) => c.id === id);
    const link = v.links[id];
    const provider = (ref?.provider ?? link?.provider) as Provider;
    const state = link ? link.status + (link.error ? ` (${link.error})` : '') : 'not started';
    return `| ${cell(connectorLabel({ id, provider, ...(ref?.caps ? { caps: ref.caps } : {}) }))} | ${cell(link?.externalRef ?? '—')} | ${cell(state)} |`;
  });
  // The table first: the UI shows current details in a short frame, and the connectors matter most.
  return ['| connector | ref | state |', '|---|---|---|', ...rows, '', head, '', title].join('\n');
}
