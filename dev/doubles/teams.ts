import { DoubleServer, type RecordedRequest, type Reply } from './server';

export interface TeamsPost {
  at: number;
  card: Record<string, any>;
  /** What the card shows, one entry per text element (see `shownLines`). */
  lines: string[];
}

/**
 * A Teams Workflows webhook ("When a Teams webhook request is received"): the signed URL's `sig` query
 * parameter must match (401 otherwise); the body must be the message envelope with an Adaptive Card
 * attachment (version ≤ 1.5) whose text elements are well formed, else 400; accepted posts answer 202 with an empty
 * body. Stricter than the real service, which answers 202 to a post over its ~28 KB and drops it silently, and answers
 * 202 before its flow posts the card (a card Teams cannot show is lost without an error): 413 and 400 here, so a test
 * sees the post that would be lost.
 */
/** Teams' limit on one post, in bytes. */
export const MAX_POST_BYTES = 28 * 1024;

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * What is wrong with one body element's text, if anything: a TextBlock needs its `text`; a RichTextBlock (card 1.2+)
 * needs `inlines`, each a string or a TextRun with a `text`; a FactSet needs `facts`, each with a `title` and a
 * `value`. Containers are read through. Other elements are not checked.
 */
function elementProblem(el: any, version: number): string | undefined {
  if (el === null || typeof el !== 'object' || !isString(el.type)) return 'an element without a type';
  switch (el.type) {
    case 'TextBlock':
      return isString(el.text) ? undefined : 'a TextBlock without text';
    case 'RichTextBlock':
      if (version < 1.2) return 'a RichTextBlock in a card before 1.2';
      if (!Array.isArray(el.inlines)) return 'a RichTextBlock without inlines';
      return el.inlines.every((i: any) => isString(i) || (i?.type === 'TextRun' && isString(i.text))) ? undefined : 'an inline that is not a TextRun with text';
    case 'FactSet':
      return Array.isArray(el.facts) && el.facts.every((f: any) => isString(f?.title) && isString(f?.value)) ? undefined : 'a fact without a title and a value';
    case 'Container':
      return Array.isArray(el.items) ? el.items.map((x: any) => elementProblem(x, version)).find(Boolean) : 'a Container without items';
    default:
      return undefined;
  }
}

/**
 * The texts a card shows, one entry per text element in order: a TextBlock's text, a RichTextBlock's inlines joined,
 * each fact as `title: value`. For tests to find a post (the title is the first line).
 */
function shownLines(card: Record<string, any>): string[] {
  const of = (el: any): string[] => {
    switch (el?.type) {
      case 'TextBlock':
        return [String(el.text)];
      case 'RichTextBlock':
        return [(el.inlines as any[]).map((i) => (isString(i) ? i : String(i.text))).join('')];
      case 'FactSet':
        return (el.facts as any[]).map((f) => `${f.title}: ${f.value}`);
      case 'Container':
        return (el.items as any[]).flatMap(of);
      default:
        return [];
    }
  };
  return Array.isArray(card.body) ? card.body.flatMap(of) : [];
}

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
    const problem = Array.isArray(card.body) ? card.body.map((el: unknown) => elementProblem(el, version)).find(Boolean) : 'a card without a body';
    if (problem) return { status: 400, body: { error: { code: 'InvalidTemplate', message: `The Adaptive Card has ${problem}.` } } };
    this.posts.push({ at: Date.now(), card, lines: shownLines(card) });
    return { status: 202 };
  }
}
