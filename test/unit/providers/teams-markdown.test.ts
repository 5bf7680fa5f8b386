/**
 * Teams parses `TextBlock.text` and a FactSet's fact titles and values as Markdown: a link `[x](https://…)`, bold,
 * italic, a list at a line start. Incident text (the title and summary from probectl or any /v1 client; the resolution
 * note, which carries an inbound ITSM/pager webhook's actor and reason) must never reach one of those strings: a title
 * `Disk full — [re-authenticate here](https://evil.example)` was a clickable phishing link in the on-call channel.
 * Every Markdown construct × every user field × every position: no string Teams reads as Markdown holds it, and the
 * text is shown as typed in a TextRun (RichTextBlock, Adaptive Cards 1.2+, "Markdown is not supported"). Also the id
 * (its charset still italicizes `_x_` and makes `-`, `1.`, `---` a list or a rule) and openedAt (the workflow takes
 * anything `Date.parse` reads), a property over long mixed texts with the documented cuts, and the double.
 */
import fc from 'fast-check';
import { MAX_BODY_BYTES, MAX_TEXT, MAX_TITLE, adaptiveCard, buildCardPost } from '../../../src/providers/teams/build';
import { resolvedBy } from '../../../src/providers/format';
import { incidentProblems } from '../../../src/shared/validate';
import type { Incident } from '../../../src/shared/contract';
import { TeamsDouble } from '../../../dev/doubles/teams';
import { cardStrings } from '../../helpers/adaptive-card';

const BASE: Incident = {
  id: 'INC-2041', tenantId: 'acme', title: 'Packet loss', severity: 'critical', summary: '14% loss', openedAt: '2026-03-01T12:00:00.000Z',
  url: 'https://probectl.example.com/incidents/INC-2041',
};

/** Every construct of the CommonMark subset Teams renders, and the rest of CommonMark/GFM in case a client does more. */
const CONSTRUCTS: Array<[name: string, text: string]> = [
  ['link', '[re-authenticate here](https://evil.example)'],
  ['link with a title', '[x](https://evil.example "sign in")'],
  ['link in angle brackets', '[x](<https://evil.example/a b>)'],
  ['reference link', '[x][r]'],
  ['link reference definition', '[r]: https://evil.example'],
  ['image', '![x](https://evil.example/p.png)'],
  ['autolink', '<https://evil.example>'],
  ['email autolink', '<mallory@evil.example>'],
  ['bare URL (GFM autolink)', 'https://evil.example/login'],
  ['www autolink (GFM)', 'www.evil.example'],
  ['bold **', '**urgent**'],
  ['bold __', '__urgent__'],
  ['italic _', '_urgent_'],
  ['italic *', '*urgent*'],
  ['bold italic', '***urgent***'],
  ['strikethrough (GFM)', '~~fixed~~'],
  ['bullet -', '- item'],
  ['bullet *', '* item'],
  ['bullet +', '+ item'],
  ['ordered 1.', '1. item'],
  ['ordered 1)', '1) item'],
  ['heading #', '# Heading'],
  ['heading ###', '### Heading'],
  ['setext underline =', '==='],
  ['setext underline / rule -', '---'],
  ['rule ***', '***'],
  ['rule ___', '___'],
  ['block quote', '> quoted'],
  ['code span', '`code`'],
  ['fenced code', '```\ncode\n```'],
  ['indented code', '    code'],
  ['raw HTML', '<a href="https://evil.example">x</a>'],
  ['entity', '&lt;b&gt; &#91;'],
  ['backslash escape', '\\*not italic\\*'],
  ['table (GFM)', '| a | b |\n|---|---|'],
  ['task item (GFM)', '- [x] done'],
];

const POSITIONS: Array<[name: string, place: (c: string) => string]> = [
  ['at the start', (c) => `${c} after`],
  ['in the middle', (c) => `before ${c} after`],
  ['at the end', (c) => `before ${c}`],
  ['alone', (c) => c],
  ['after \\n', (c) => `before\n${c}`],
  ['after \\r', (c) => `before\r${c}`],
  ['after \\r\\n', (c) => `before\r\n${c}`],
];

/** Each user field: the card it is shown on, built with `text` in that field. */
const FIELDS: Array<[name: string, build: (text: string) => Record<string, unknown>]> = [
  ['title (opened)', (t) => adaptiveCard({ ...BASE, title: t })],
  ['title (resolved)', (t) => adaptiveCard({ ...BASE, title: t }, resolvedBy({ source: 'api', actor: 'alice', reason: 'fixed' }))],
  ['summary', (t) => adaptiveCard({ ...BASE, summary: t })],
  ['resolution actor', (t) => adaptiveCard(BASE, resolvedBy({ source: 'servicenow-eu', actor: t, reason: 'fixed' }))],
  ['resolution reason', (t) => adaptiveCard(BASE, resolvedBy({ source: 'servicenow-eu', actor: 'alice', reason: t }))],
];

/** What the builder may write in a Markdown field: its own labels and the severity names (none of them today). */
const OURS = new Set(['Severity', 'Incident', 'Opened', 'Status', 'critical', 'error', 'warning', 'info']);
const notOurs = (card: unknown) => cardStrings(card).markdown.filter(([, s]) => !OURS.has(s));

const ROWS = FIELDS.flatMap(([field, build]) => CONSTRUCTS.flatMap(([construct, c]) => POSITIONS.map(([where, place]) => [field, construct, where, build, place(c), c] as const)));

describe('every Markdown construct × every user field × every position: shown as typed, never parsed', () => {
  test.each(ROWS.map((r) => [r[0], r[1], r[2], r]))('%s: %s %s', (_f, _c, _w, [, , , build, text, construct]) => {
    const card = build(text);
    const { markdown, plain } = cardStrings(card);
    expect(markdown.filter(([, s]) => s.includes(construct))).toEqual([]);
    expect(notOurs(card)).toEqual([]);
    expect(plain.filter((p) => p.includes(text))).toHaveLength(1);
  });
});

describe('the incident id: its charset [A-Za-z0-9._-] still makes emphasis, lists and rules', () => {
  test.each(['_db_', '__db__', '-', '--', '---', '1.', '12.', '_a', 'a_', 'x_y_z', '...a'])('%p', (id) => {
    expect(incidentProblems({ ...BASE, id })).toEqual([]);
    for (const card of [adaptiveCard({ ...BASE, id }), adaptiveCard({ ...BASE, id }, 'Resolved by api')]) {
      expect(cardStrings(card).markdown.filter(([, s]) => s.includes(id))).toEqual([]);
      expect(cardStrings(card).plain).toContain(id);
    }
  });
});

describe('openedAt: the workflow takes anything Date.parse reads (≤ 64 characters)', () => {
  const dated = CONSTRUCTS.flatMap(([name, c]) => [[name, `${c} 2026-03-01`], [name, `2026-03-01 ${c}`], [name, `Mar 1 2026 ${c}`]] as Array<[string, string]>)
    .filter(([, at]) => incidentProblems({ ...BASE, openedAt: at }).length === 0);
  test('most constructs pass the contract in openedAt', () => {
    expect(new Set(dated.map(([name]) => name)).size).toBeGreaterThanOrEqual(20);
  });
  test.each(dated.map(([name, at]) => [name, JSON.stringify(at), at]))('%s: %s', (_name, _shown, openedAt) => {
    for (const card of [adaptiveCard({ ...BASE, openedAt }), adaptiveCard({ ...BASE, openedAt }, 'Resolved by api')]) {
      expect(notOurs(card)).toEqual([]);
      expect(cardStrings(card).plain).toContain(openedAt);
    }
  });
});

// ---- long and mixed texts: the documented cuts, and still nothing parsed ---------------------------------------

const MARKUP = CONSTRUCTS.map(([, c]) => c);
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...MARKUP) },
  { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.constantFrom('\n', '\r', '\r\n', ' ', '    ', '\u2028') },
  { weight: 1, arbitrary: fc.constantFrom('😀', '中', '\u0001', '\ud800', '"', '\\') },
);
const text = (max: number, min = 0) => fc.oneof(
  fc.array(piece, { maxLength: 40 }).map((a) => a.join('')),
  fc.tuple(fc.array(piece, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max })).map(([a, n]) => a.join('').repeat(Math.ceil(n / a.join('').length)).slice(0, n)),
).map((s) => s.slice(0, max)).filter((s) => s.length >= min);

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string) => s.replace(LONE, '\uFFFD');
/** `shown` is `full` (lone surrogates as U+FFFD), or a prefix of it and `…`, within `max` UTF-16 units. */
function expectCut(shown: string, full: string, max: number): void {
  expect(shown.length).toBeLessThanOrEqual(max);
  const whole = clean(full);
  if (shown !== whole) {
    expect(shown.endsWith('…')).toBe(true);
    expect(whole.startsWith(shown.slice(0, -1))).toBe(true);
  }
}

test('any title, summary and resolution within the API bounds: cut as documented, shown in TextRuns, never parsed', () => {
  fc.assert(fc.property(
    text(4096, 1), fc.option(text(65_536), { nil: undefined }), text(256, 1), text(1000),
    (title, summary, actor, reason) => {
      const { summary: _golden, ...rest } = BASE;
      const inc: Incident = { ...rest, title, ...(summary === undefined ? {} : { summary }) };
      const note = resolvedBy({ source: 'api', actor, reason });
      for (const [resolved, req] of [[false, buildCardPost('https://x.logic.azure.com/w?sig=s', inc)], [true, buildCardPost('https://x.logic.azure.com/w?sig=s', inc, note)]] as const) {
        expect(Buffer.byteLength(req.body!)).toBeLessThanOrEqual(MAX_BODY_BYTES);
        const card = JSON.parse(req.body!).attachments[0].content;
        expect(notOurs(card)).toEqual([]);
        const body = card.body as Array<{ inlines: Array<{ text: string }> }>;
        expectCut(body[0]!.inlines[0]!.text, resolved ? `Resolved: ${title}` : title, MAX_TITLE);
        const free = resolved ? note : summary || undefined;
        const last = body.at(-1)!.inlines.at(-1)!.text;
        if (free === undefined) expect(last).toBe(BASE.openedAt);
        else expectCut(last, free, MAX_TEXT);
      }
    },
  ), { numRuns: Number(process.env.LIMITS_RUNS ?? 100) });
});

// ---- the double takes the card and refuses a malformed one -------------------------------------------------------

describe('the Teams double', () => {
  const PATH = '/workflows/abc/triggers/manual/paths/invoke';
  const tm = new TeamsDouble({ sig: 'Sig', path: PATH });
  beforeAll(() => tm.start());
  afterAll(() => tm.stop());
  const post = async (body: unknown) => (await fetch(`${tm.url}${PATH}?sig=Sig`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
  const envelope = (content: unknown) => ({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content }] });

  test('takes the opened and resolved cards, every construct in every field, and shows the title as its first line', async () => {
    const hostile = MARKUP.join('\n');
    const inc = { ...BASE, title: `Disk full — ${hostile}`, summary: hostile };
    for (const card of [adaptiveCard(BASE), adaptiveCard(BASE, 'Resolved by alice (via api): fixed'), adaptiveCard(inc), adaptiveCard(inc, resolvedBy({ source: 'api', actor: hostile, reason: hostile }))]) {
      expect(await post(envelope(card))).toBe(202);
    }
    expect(tm.posts.map((p) => p.lines[0])).toEqual(['Packet loss', 'Resolved: Packet loss', `Disk full — ${hostile}`.slice(0, MAX_TITLE - 1) + '…', `Resolved: Disk full — ${hostile}`.slice(0, MAX_TITLE - 1) + '…']);
    expect(tm.posts[0]!.lines).toContain('Incident: INC-2041');
  });

  test.each([
    ['a RichTextBlock in a 1.1 card', { type: 'AdaptiveCard', version: '1.1', body: [{ type: 'RichTextBlock', inlines: ['x'] }] }],
    ['an inline without text', { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun' }] }] }],
    ['an inline that is not a TextRun', { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'RichTextBlock', inlines: [{ type: 'TextBlock', text: 'x' }] }] }],
    ['a TextBlock without text', { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock' }] }],
    ['a fact without a value', { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'FactSet', facts: [{ title: 't' }] }] }],
    ['no body', { type: 'AdaptiveCard', version: '1.4' }],
  ])('refuses %s (400)', async (_name, card) => {
    expect(await post(envelope(card))).toBe(400);
  });
});
