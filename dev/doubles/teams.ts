import { DoubleServer, type RecordedRequest, type Reply } from './server';

export interface TeamsPost {
  at: number;
  card: Record<string, any>;
}

/**
 * A Teams Workflows webhook ("When a Teams webhook request is received"): the signed URL's `sig` query
 * parameter must match (401 otherwise); the body must be the message envelope with an Adaptive Card
 * attachment (version ≤ 1.5), else 400; accepted posts answer 202 with an empty body. Stricter than the real service,
 * which answers 202 to a post over its ~28 KB and drops it silently: 413 here, so a test sees the post that would be lost.
 */
/** Teams' limit on one post, in bytes. */
export const MAX_POST_BYTES = 28 * 1024;

export class TeamsDouble extends DoubleServer {
  readonly posts: TeamsPost[] = [];

  constructor(private readonly opts: { sig: string; path?: string }) {
    super((req) => this.#handle(req));
  }

  /** The path the webhook URL carries (everything before the query). */
  get path(): string {
    return this.opts.path ?? '/workflows/abc123/triggers/manual/paths/invoke';
  }

  #handle(req: RecordedRequest): Reply {
    if (req.path !== this.path) return { status: 404, body: { error: { code: 'WorkflowNotFound', message: 'The workflow was not found.' } } };
    if (req.query.get('sig') !== this.opts.sig) {
      return { status: 401, body: { error: { code: 'DirectApiAuthorizationRequired', message: 'The request must be authenticated.' } } };
    }
    if (req.method !== 'POST') return { status: 405, body: { error: { code: 'MethodNotAllowed' } } };
    if (req.bytes > MAX_POST_BYTES) return { status: 413, body: { error: { code: 'MessageSizeExceeded', message: `The message is larger than ${MAX_POST_BYTES} bytes.` } } };
    const b = req.json as Record<string, any> | undefined;
    const att = Array.isArray(b?.attachments) ? b!.attachments[0] : undefined;
    const card = att?.content;
    const version = Number(card?.version);
    if (b?.type !== 'message' || att?.contentType !== 'application/vnd.microsoft.card.adaptive' || card?.type !== 'AdaptiveCard' || !(version >= 1 && version <= 1.5)) {
      return { status: 400, body: { error: { code: 'InvalidTemplate', message: 'The request body is not a message with an Adaptive Card attachment.' } } };
    }
    this.posts.push({ at: Date.now(), card });
    return { status: 202 };
  }
}
