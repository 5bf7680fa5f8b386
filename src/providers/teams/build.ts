import type { Incident } from '../../shared/contract';
import { truncate } from '../../shared/text';
import type { HttpRequest } from '../../http/types';

/** Teams posts are limited to about 28 KB; each text block is kept well inside that. */
export const MAX_TITLE = 256;
export const MAX_TEXT = 4_000;

const SEVERITY_COLOR: Record<string, string> = { critical: 'Attention', error: 'Attention', warning: 'Warning', info: 'Accent' };

/** An Adaptive Card 1.4 for the incident, opened or resolved. */
export function adaptiveCard(incident: Incident, resolvedNote?: string): Record<string, unknown> {
  const body: unknown[] = [
    {
      type: 'TextBlock',
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
      color: resolvedNote ? 'Good' : (SEVERITY_COLOR[incident.severity] ?? 'Default'),
      text: truncate(resolvedNote ? `Resolved: ${incident.title}` : incident.title, MAX_TITLE),
    },
    {
      type: 'FactSet',
      facts: [
        { title: 'Severity', value: incident.severity },
        { title: 'Incident', value: incident.id },
        { title: 'Opened', value: incident.openedAt },
        ...(resolvedNote ? [{ title: 'Status', value: truncate(resolvedNote, MAX_TEXT) }] : []),
      ],
    },
  ];
  if (incident.summary && !resolvedNote) body.push({ type: 'TextBlock', wrap: true, text: truncate(incident.summary, MAX_TEXT) });
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
  };
  if (incident.url) card.actions = [{ type: 'Action.OpenUrl', title: 'Open in probectl', url: incident.url }];
  return card;
}

/**
 * The Workflows webhook envelope ("When a Teams webhook request is received" reads attachments[0].content).
 * The URL is used exactly as configured: its query carries the signature.
 */
export function buildCardPost(webhookUrl: string, incident: Incident, resolvedNote?: string): HttpRequest {
  return {
    method: 'POST',
    url: webhookUrl,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: adaptiveCard(incident, resolvedNote) }],
    }),
  };
}
