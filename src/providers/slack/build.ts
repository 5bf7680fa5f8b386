import type { Incident } from '../../shared/contract';
import { cutRendered, truncateUnits, wellFormed } from '../text-limits';
import type { HttpRequest, HttpResponse } from '../../http/types';

/** Block Kit limits, in UTF-16 units: header text 150, section and context text 3000, button url 3000; top-level text kept to 3000. */
export const MAX_HEADER = 150;
export const MAX_SECTION = 3_000;
export const MAX_TEXT = 3_000;
export const MAX_URL = 3_000;

const SEVERITY_EMOJI: Record<string, string> = { critical: ':red_circle:', error: ':large_orange_circle:', warning: ':large_yellow_circle:', info: ':large_blue_circle:' };

/** Web API mode: the URL is `.../api/chat.postMessage` and a `channel` option names the channel. */
export function isWebApi(url: string, options: { channel?: string }): boolean {
  return new URL(url).pathname.endsWith('/chat.postMessage') && Boolean(options.channel);
}

/** Slack mrkdwn needs &, < and > escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, escapeChar);
}

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const escapeChar = (c: string): string => ENTITY[c] ?? c;

/**
 * User text for a `mrkdwn` field or the top-level `text` (both parse `<…>` as links and mentions): escaped, then cut
 * to `max` UTF-16 units between two escapes (never inside `&amp;`), the ellipsis included.
 */
function mrkdwn(text: string, max: number): string {
  return cutRendered(text, max, { render: escapeChar });
}

export interface Resolution {
  note: string;
}

/** The incident as Block Kit: header, facts, optional link button; with `resolved` it shows the resolution. */
export function incidentBlocks(incident: Incident, resolved?: Resolution): unknown[] {
  // plain_text: shown as is, nothing to escape
  const head = resolved ? `:white_check_mark: Resolved: ${incident.title}` : `${SEVERITY_EMOJI[incident.severity] ?? ''} ${incident.title}`.trim();
  const facts = [`*Severity:* ${incident.severity}`, `*Incident:* ${escapeMrkdwn(incident.id)}`, `*Opened:* ${escapeMrkdwn(incident.openedAt)}`].join('\n');
  const status = resolved ? `\n*Status:* ${mrkdwn(resolved.note, MAX_SECTION - facts.length - '\n*Status:* '.length)}` : '';
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncateUnits(head, MAX_HEADER), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `${facts}${status}` } },
  ];
  if (incident.summary && !resolved) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mrkdwn(incident.summary, MAX_SECTION) } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `probectl${incident.source ? ` · ${mrkdwn(incident.source, MAX_SECTION - 'probectl · '.length)}` : ''}` }] });
  // A URL is never cut (a cut one leads elsewhere): one over Slack's limit leaves the button out.
  if (incident.url && incident.url.length <= MAX_URL) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in probectl' }, url: wellFormed(incident.url) }] });
  }
  return blocks;
}

/** The notification / fallback text (mrkdwn: the incident's text escaped, then cut to MAX_TEXT units). */
export function fallbackText(incident: Incident, resolved?: Resolution): string {
  const text = resolved
    ? `Resolved: ${incident.title} (${resolved.note})`
    : `[${incident.severity.toUpperCase()}] ${incident.title}${incident.summary ? ` — ${incident.summary}` : ''}`;
  return mrkdwn(text, MAX_TEXT);
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** Incoming webhook: the URL is the secret; there is no auth header. */
export function buildWebhookPost(webhookUrl: string, incident: Incident, resolved?: Resolution): HttpRequest {
  return {
    method: 'POST',
    url: webhookUrl,
    headers: { ...JSON_HEADERS },
    body: JSON.stringify({ text: fallbackText(incident, resolved), blocks: incidentBlocks(incident, resolved) }),
  };
}

function apiHeaders(token: string): Record<string, string> {
  return { ...JSON_HEADERS, authorization: `Bearer ${token}`, accept: 'application/json' };
}

/** chat.postMessage; with `threadTs` it is a reply in the incident's thread. */
export function buildPostMessage(apiUrl: string, token: string, channel: string, incident: Incident, resolved?: Resolution, threadTs?: string): HttpRequest {
  const body: Record<string, unknown> = { channel, text: fallbackText(incident, resolved), blocks: incidentBlocks(incident, resolved), unfurl_links: false };
  if (threadTs) body.thread_ts = threadTs;
  return { method: 'POST', url: apiUrl, headers: apiHeaders(token), body: JSON.stringify(body) };
}

/** chat.update of the original message, next to chat.postMessage under the same API base. */
export function buildUpdate(apiUrl: string, token: string, channel: string, ts: string, incident: Incident, resolved: Resolution): HttpRequest {
  const u = new URL(apiUrl);
  u.pathname = u.pathname.replace(/chat\.postMessage$/, 'chat.update');
  return {
    method: 'POST',
    url: u.toString(),
    headers: apiHeaders(token),
    body: JSON.stringify({ channel, ts, text: fallbackText(incident, resolved), blocks: incidentBlocks(incident, resolved) }),
  };
}

/** `C123:1503435956.000247` ↔ channel and ts. */
export function messageRef(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

export function parseMessageRef(ref: string | undefined): { channel: string; ts: string } | undefined {
  if (!ref) return undefined;
  const i = ref.indexOf(':');
  if (i <= 0) return undefined;
  const channel = ref.slice(0, i);
  const ts = ref.slice(i + 1);
  return /^\d+\.\d+$/.test(ts) ? { channel, ts } : undefined;
}

export interface ApiResult {
  ok: boolean;
  error?: string;
  channel?: string;
  ts?: string;
}

export function parseApiResult(body: unknown): ApiResult | undefined {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || typeof b.ok !== 'boolean') return undefined;
  return {
    ok: b.ok,
    ...(typeof b.error === 'string' ? { error: b.error } : {}),
    ...(typeof b.channel === 'string' ? { channel: b.channel } : {}),
    ...(typeof b.ts === 'string' ? { ts: b.ts } : {}),
  };
}

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission', 'missing_scope', 'ekm_access_denied']);
/** Slack's documented transient Web API errors. */
const TRANSIENT_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/**
 * The HTTP status an `ok:false` answer stands for, so classify.ts decides it like any HTTP error:
 * `ratelimited` → 429 (its Retry-After honoured), transient errors → 503, auth errors → 401, the rest → 400.
 */
export function apiErrorAsHttp(res: HttpResponse, error: string): HttpResponse {
  const status = error === 'ratelimited' ? 429 : TRANSIENT_ERRORS.has(error) ? 503 : AUTH_ERRORS.has(error) ? 401 : 400;
  return { status, headers: res.headers, text: error };
}

/**
 * A webhook answers 200 `ok`. A 2xx whose body is one of Slack's error codes (lowercase words joined by underscores:
 * `invalid_payload`, `no_text`, `channel_is_archived`, …; a lone word such as `success` from a relay is not one) is an error Slack sent with the wrong status and is decided like one; any other
 * 2xx body (an HTML page from a proxy, a truncated body) counts as delivered: the post most likely went out, and
 * calling it refused would leave it without its resolution post (docs/faults.md, F-3).
 */
export function webhookBodyAsHttp(res: HttpResponse): HttpResponse | undefined {
  const body = res.text.trim();
  return /^[a-z]+(_[a-z]+)+$/.test(body) ? { status: 400, headers: res.headers, text: body } : undefined;
}
