import { DoubleServer, type RecordedRequest, type Reply } from './server';

export interface SlackMessage {
  via: 'webhook' | 'api';
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  threadTs?: string;
  edited: boolean;
  at: number;
}

/**
 * Slack as the docs describe it. Incoming webhook at `webhookPath`: 200 `ok`; plain-text error codes with
 * 4xx (`invalid_payload` 400, `no_text` 400, `invalid_token` 403, `no_service` 404). Web API
 * (`/api/chat.postMessage`, `/api/chat.update`, bot token): always HTTP 200, `ok:false` with an error code
 * (`invalid_auth`, `channel_not_found`, `message_not_found`, `no_text`). Both refuse Block Kit over its limits
 * (`invalid_blocks`: header text over 150 UTF-16 units, section or context text or a button URL over 3000) and a
 * top-level text over 40,000 (`msg_too_long`).
 */
/** Block Kit's and chat.postMessage's limits, in UTF-16 units. */
const MAX_HEADER = 150;
const MAX_TEXT_OBJECT = 3_000;
const MAX_MESSAGE_TEXT = 40_000;

/** The error code Slack answers for a message over its limits, or undefined. */
export function overLimit(b: { text?: unknown; blocks?: unknown }): string | undefined {
  if (typeof b.text === 'string' && b.text.length > MAX_MESSAGE_TEXT) return 'msg_too_long';
  for (const block of Array.isArray(b.blocks) ? (b.blocks as Array<Record<string, any>>) : []) {
    const texts: unknown[] = [block?.text?.text, ...(Array.isArray(block?.elements) ? block.elements.map((e: Record<string, any>) => e?.text?.text ?? e?.text) : [])];
    const max = block?.type === 'header' ? MAX_HEADER : MAX_TEXT_OBJECT;
    if (texts.some((t) => typeof t === 'string' && t.length > max)) return 'invalid_blocks';
    if (Array.isArray(block?.elements) && block.elements.some((e: Record<string, any>) => typeof e?.url === 'string' && e.url.length > MAX_TEXT_OBJECT)) return 'invalid_blocks';
  }
  return undefined;
}

export class SlackDouble extends DoubleServer {
  readonly messages: SlackMessage[] = [];
  #seq = 0;

  constructor(private readonly opts: { webhookPath: string; botToken?: string; channels?: string[]; webhookChannel?: string }) {
    super((req) => this.#handle(req));
  }

  /** Messages that are not thread replies. */
  topLevel(): SlackMessage[] {
    return this.messages.filter((m) => !m.threadTs);
  }

  replies(ts: string): SlackMessage[] {
    return this.messages.filter((m) => m.threadTs === ts);
  }

  #nextTs(): string {
    this.#seq += 1;
    return `${1_700_000_000 + this.#seq}.${String(this.#seq).padStart(6, '0')}`;
  }

  #handle(req: RecordedRequest): Reply {
    if (req.path.startsWith('/api/')) return this.#api(req);
    if (req.path !== this.opts.webhookPath) {
      return req.path.startsWith('/services/') ? { status: 403, body: 'invalid_token' } : { status: 404, body: 'no_service' };
    }
    if (req.method !== 'POST') return { status: 405, body: 'invalid_method' };
    const b = req.json as { text?: unknown; blocks?: unknown } | undefined;
    if (!b || typeof b !== 'object') return { status: 400, body: 'invalid_payload' };
    if (typeof b.text !== 'string' && !Array.isArray(b.blocks)) return { status: 400, body: 'no_text' };
    const over = overLimit(b);
    if (over) return { status: 400, body: over };
    this.messages.push({
      via: 'webhook', channel: this.opts.webhookChannel ?? 'C0WEBHOOK', ts: this.#nextTs(), text: String(b.text ?? ''),
      blocks: Array.isArray(b.blocks) ? b.blocks : [], edited: false, at: Date.now(),
    });
    return { status: 200, body: 'ok' };
  }

  #api(req: RecordedRequest): Reply {
    const fail = (error: string): Reply => ({ status: 200, body: { ok: false, error } });
    if (!this.opts.botToken || req.headers.authorization !== `Bearer ${this.opts.botToken}`) return fail('invalid_auth');
    const b = req.json as Record<string, any> | undefined;
    if (!b || typeof b !== 'object') return fail('invalid_arguments');
    const channels = this.opts.channels ?? ['C0PROBECTL'];
    if (!channels.includes(b.channel)) return fail('channel_not_found');
    if (typeof b.text !== 'string' && !Array.isArray(b.blocks)) return fail('no_text');
    const over = overLimit(b);
    if (over) return fail(over);
    if (req.path === '/api/chat.postMessage') {
      if (b.thread_ts !== undefined && !this.messages.some((m) => m.channel === b.channel && m.ts === b.thread_ts)) return fail('thread_not_found');
      const msg: SlackMessage = {
        via: 'api', channel: b.channel, ts: this.#nextTs(), text: String(b.text ?? ''), blocks: b.blocks ?? [],
        ...(b.thread_ts ? { threadTs: b.thread_ts } : {}), edited: false, at: Date.now(),
      };
      this.messages.push(msg);
      return { status: 200, body: { ok: true, channel: msg.channel, ts: msg.ts, message: { text: msg.text, ts: msg.ts } } };
    }
    if (req.path === '/api/chat.update') {
      const msg = this.messages.find((m) => m.channel === b.channel && m.ts === b.ts);
      if (!msg) return fail('message_not_found');
      msg.text = String(b.text ?? msg.text);
      msg.blocks = b.blocks ?? msg.blocks;
      msg.edited = true;
      return { status: 200, body: { ok: true, channel: msg.channel, ts: msg.ts, text: msg.text } };
    }
    return { status: 404, body: { ok: false, error: 'unknown_method' } };
  }
}
