import type { Incident } from '../../shared/contract';
import { fitStrings, jsonBytes, truncateUnits, wellFormed } from '../text-limits';
import type { HttpRequest } from '../../http/types';

/** Each text block is kept well inside a Teams post, in UTF-16 units. */
export const MAX_TITLE = 256;
export const MAX_TEXT = 4_000;
/**
 * Teams posts are limited to about 28 KB, and a Workflows webhook answers 202 to a larger one and drops it: the
 * encoded body is kept to this many bytes, cutting the summary (or the resolution note) first and the title last.
 */
export const MAX_BODY_BYTES = 27_000;

const SEVERITY_COLOR: Record<string, string> = { critical: 'Attention', error: 'Attention', warning: 'Warning', info: 'Accent' };

/** The card's free texts: the title, and the summary (opened) or the resolution note (resolved). */
interface CardText {
  title: string;
  text?: string;
}

/**
 * Text shown as typed. Teams renders `TextBlock.text` and a FactSet's titles and values as Markdown (`[x](https://…)`
 * is a link, `**x**`, `_x_`, `- `/`1. ` at a line start restyle); a `TextRun` in a `RichTextBlock` (card 1.2+) is never
 * parsed ("Markdown is not supported"), so every string that carries incident or resolution text — the title, the
 * id, openedAt (the workflow takes anything `Date.parse` reads: `[x](https://…) 2026` is one), the summary, the note —
 * is a TextRun, and the card has no TextBlock or FactSet at all. A line break in a run is a line break.
 */
const run = (text: string, style: Record<string, string> = {}) => ({ type: 'TextRun', text, ...style });
const richText = (...inlines: ReturnType<typeof run>[]) => ({ type: 'RichTextBlock', inlines });
/** One fact line, `Label: value` (what the FactSet showed, the label in bold, the value as typed). */
const fact = (label: string, value: string) => richText(run(`${label}: `, { weight: 'Bolder' }), run(value));

function card(incident: Incident, resolvedNote: string | undefined, t: CardText, withUrl: boolean): Record<string, unknown> {
  const body: unknown[] = [
    richText(run(t.title, { size: 'Large', weight: 'Bolder', color: resolvedNote !== undefined ? 'Good' : (SEVERITY_COLOR[incident.severity] ?? 'Default') })),
    fact('Severity', incident.severity),
    fact('Incident', wellFormed(incident.id)),
    fact('Opened', wellFormed(incident.openedAt)),
  ];
  if (resolvedNote !== undefined) body.push(fact('Status', t.text ?? ''));
  else if (t.text !== undefined) body.push(richText(run(t.text)));
  const out: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
  };
  if (incident.url && withUrl) out.actions = [{ type: 'Action.OpenUrl', title: 'Open in probectl', url: wellFormed(incident.url) }];
  return out;
}

const envelope = (content: Record<string, unknown>) => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
});
const bytesOf = (content: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(envelope(content)), 'utf8');

/**
 * An Adaptive Card 1.4 for the incident, opened or resolved, whose message envelope stays within MAX_BODY_BYTES: the
 * summary (or the note) is cut to what the rest leaves, then the title; the link is left out only if it alone would
 * not fit (an API-valid incident always fits with it). No string of it is read as Markdown (see `run`).
 */
export function adaptiveCard(incident: Incident, resolvedNote?: string): Record<string, unknown> {
  const title = truncateUnits(resolvedNote !== undefined ? `Resolved: ${incident.title}` : incident.title, MAX_TITLE);
  const free = resolvedNote !== undefined ? resolvedNote : incident.summary || undefined;
  const text = free === undefined ? undefined : truncateUnits(free, MAX_TEXT);
  const fit = (withUrl: boolean) => {
    const rest = bytesOf(card(incident, resolvedNote, { title: '', text: text === undefined ? undefined : '' }, withUrl));
    // The title first (it is short and says what happened); the text gets what it leaves; the title gives only when it
    // alone is over.
    const [cutTitle = ''] = fitStrings([title], MAX_BODY_BYTES - rest);
    const [cutText = ''] = fitStrings([text ?? ''], MAX_BODY_BYTES - rest - jsonBytes(cutTitle));
    return card(incident, resolvedNote, { title: cutTitle, text: text === undefined ? undefined : cutText }, withUrl);
  };
  const withUrl = fit(true);
  return bytesOf(withUrl) <= MAX_BODY_BYTES ? withUrl : fit(false);
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
    body: JSON.stringify(envelope(adaptiveCard(incident, resolvedNote))),
  };
}
