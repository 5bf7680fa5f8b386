/**
 * Every provider request builder, for any incident the API accepts (generated within src/api/schemas.ts `openBody`'s
 * bounds from an alphabet of ASCII, CJK, astral emoji, ZWJ sequences, C0 controls, `"\<>&`, wiki markup, line
 * separators, RTL marks and lone surrogates): each field a provider limits stays within that limit in the unit the
 * provider counts (UTF-16 units for the Java-based ones and Block Kit; bytes of encoded JSON for whole bodies), no
 * string is left with a lone surrogate, Slack text and mrkdwn hold no `<` or `&` but the escapes the builder wrote,
 * the Jira summary is one line and its (wiki markup) description holds no link, image or macro markup from user
 * text, and the Teams card has no string Teams reads as Markdown (every text is a TextRun). A 400 from a provider is permanent: the page or ticket is lost. The limits here are the documented ones
 * (docs/providers.md), written out, not read from the builders.
 */
import fc from 'fast-check';
import { openBody } from '../../../src/api/schemas';
import { resolvedBy } from '../../../src/providers/format';
import { buildCreate as jiraCreate } from '../../../src/providers/jira/build';
import { schema as jiraOptions } from '../../../src/providers/jira/options';
import { buildAliasAction, buildCreate as ogCreate } from '../../../src/providers/opsgenie/build';
import { schema as ogOptions } from '../../../src/providers/opsgenie/options';
import { buildFollowUp, buildTrigger } from '../../../src/providers/pagerduty/build';
import { buildCreate as snCreate, buildResolve as snResolve } from '../../../src/providers/servicenow/build';
import { buildPostMessage, buildUpdate, buildWebhookPost } from '../../../src/providers/slack/build';
import { buildCardPost } from '../../../src/providers/teams/build';
import type { Incident } from '../../../src/shared/contract';
import { cardStrings } from '../../helpers/adaptive-card';
import type { HttpRequest } from '../../../src/http/types';

// ---- the documented limits -------------------------------------------------------------------------------------

const PD_SUMMARY = 1024;
const PD_BODY_BYTES = 500_000; // our budget, well under the Events API's 512 KB
const OG_MESSAGE = 130;
const OG_DESCRIPTION = 15_000;
const OG_TAG = 50;
const OG_TAGS = 20;
const OG_ENTITY = 512;
const OG_DETAILS = 8_000; // the map in all (counted as its JSON: more than any reading of the limit)
const OG_NOTE = 25_000;
const SLACK_HEADER = 150;
const SLACK_TEXT_OBJECT = 3_000;
const SLACK_TEXT = 3_000;
const TEAMS_BODY_BYTES = 27_000; // our budget, under Teams' ~28 KB
const SN_SHORT = 160;
const SN_DESCRIPTION = 4_000;
const SN_CLOSE_NOTES = 4_000;
const JIRA_SUMMARY = 255;
const JIRA_DESCRIPTION = 32_767;

// ---- incidents within the API's schema ---------------------------------------------------------------------------

const range = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((c) => String.fromCodePoint(c));
/** One piece of text, weighted towards what breaks counting, escaping and one-line rules. */
const piece: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: range(0x20, 0x7e) },
  { weight: 2, arbitrary: range(0x4e00, 0x9fff) },
  { weight: 3, arbitrary: range(0x1f300, 0x1faff) },
  { weight: 1, arbitrary: fc.constantFrom('👩\u200d👩\u200d👧\u200d👦', '🏳️\u200d🌈', '👨🏽\u200d💻') },
  { weight: 2, arbitrary: range(0x01, 0x1f) },
  { weight: 3, arbitrary: fc.constantFrom('"', '\\', '<', '>', '&', '&amp;', '<!channel>', '<https://evil.example|click>') },
  { weight: 2, arbitrary: fc.constantFrom('[', ']', '!', '{', '}', '|', '[x|https://evil.example]', '!https://tracker.example/p.png!', '{html}') },
  { weight: 1, arbitrary: fc.constantFrom('\u2028', '\u2029', '\u0085', '\v', '\f', '\r\n', '\n') },
  { weight: 1, arbitrary: fc.constantFrom('\u200f', '\u200e', '\u202e', '\u2066') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);

/**
 * Text of at most `max` UTF-16 units (what zod's `.max` counts) and at least `min`: short random text, or a random
 * stretch repeated up to the bound (so the limits are reached without generating 65,536 random pieces).
 */
function text(max: number, min = 0): fc.Arbitrary<string> {
  const short = fc.array(piece, { maxLength: Math.min(max, 64) }).map((a) => a.join(''));
  const long = fc.tuple(fc.array(piece, { minLength: 1, maxLength: 40 }), fc.oneof(fc.integer({ min: 0, max }), fc.constant(max)))
    .map(([a, n]) => a.join('').repeat(Math.ceil(Math.max(n, 1) / a.join('').length)).slice(0, Math.max(n, min)));
  return fc.oneof({ weight: 1, arbitrary: short }, { weight: 2, arbitrary: long }).map((s) => s.slice(0, max)).filter((s) => s.length >= min);
}

/**
 * Valid /v1 input, but for lone surrogates: the API may refuse them, the workflow contract does not (other clients
 * start incidents directly), so the builders must take them; they are checked with each replaced by U+FFFD.
 */
const LONE_G = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const mended = (v: unknown): unknown =>
  typeof v === 'string' ? v.replace(LONE_G, '\uFFFD') : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [mended(k), mended(x)])) : v;
const validApartFromSurrogates = (i: unknown) => openBody.safeParse(mended(i)).success;

const urlSchema = openBody.shape.url.unwrap();
const url = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  text(1_900).map((t) => `https://probectl.example.com/incidents/${t}`),
).map((u) => u.slice(0, 2048)).filter((u) => urlSchema.safeParse(mended(u)).success);

const incident: fc.Arbitrary<Incident> = fc.record({
  id: fc.stringMatching(/^[A-Za-z0-9._-]{1,128}$/),
  tenantId: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
  title: text(4096, 1),
  severity: fc.constantFrom('critical', 'error', 'warning', 'info'),
  summary: fc.option(text(65_536), { nil: undefined }),
  source: fc.option(text(255, 1), { nil: undefined }),
  url: fc.option(url, { nil: undefined }),
  openedAt: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
  labels: fc.option(fc.dictionary(text(128), text(1024), { maxKeys: 64 }), { nil: undefined }),
}, { requiredKeys: ['id', 'tenantId', 'title', 'severity', 'openedAt'] }).filter(validApartFromSurrogates);

interface Resolution { source: string; actor?: string; reason?: string }
const resolution: fc.Arbitrary<Resolution> = fc.record({
  source: fc.constantFrom('api', 'probectl', 'jira', 'servicenow-eu', 'pagerduty'),
  actor: fc.option(text(256, 1), { nil: undefined }),
  reason: fc.option(text(1000), { nil: undefined }),
}, { requiredKeys: ['source'] });

/**
 * Incidents at every bound of the schema, each made of one character that is worst for some count: 6 bytes of JSON
 * (`\u0001`, a lone surrogate), 4 bytes and 2 units (emoji), 3 bytes (CJK), 5 units once escaped for Slack (`&`), 2
 * once escaped for Jira (`[`), a line separator. Every property runs these first.
 */
const fill = (c: string, n: number) => c.repeat(Math.ceil(n / c.length)).slice(0, n);
const WORST: Incident[] = ['\u0001', '😀', '中', '&', '[', '\u2028', '👩\u200d👩\u200d👧\u200d👦', '\ud800'].map((c) => ({
  id: fill('i', 128), tenantId: fill('t', 64), title: fill(c, 4096), severity: 'critical', summary: fill(c, 65_536), source: fill(c, 255),
  url: `https://probectl.example.com/${fill(c === '\u0001' || c === '\u2028' ? '中' : c, 2048 - 29)}`, openedAt: '2026-03-01T12:00:00.000Z',
  labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${String(i).padStart(2, '0')}${fill(c, 126)}`, fill(c, 1024)])),
}));
test('the worst-case incidents are valid input (lone surrogates apart: see validApartFromSurrogates)', () => {
  for (const w of WORST) expect(openBody.safeParse(mended(w)).error?.issues ?? []).toEqual([]);
});
const WORST_RESOLUTION: Resolution = { source: 'api', actor: fill('\u0001', 256), reason: fill('&', 1000) };

const RUNS = { numRuns: Number(process.env.LIMITS_RUNS ?? 100) };
/** LIMITS_RANDOM_ONLY=1 leaves the worst cases out (to see what the random incidents alone find). */
const worstFirst = process.env.LIMITS_RANDOM_ONLY === '1' ? [] : WORST;
const withWorst = { ...RUNS, examples: worstFirst.map((w) => [w] as [Incident]) };
const withWorstPair = { ...RUNS, examples: worstFirst.map((w) => [w, WORST_RESOLUTION] as [Incident, Resolution]) };

// ---- checks ----------------------------------------------------------------------------------------------------

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Every string (keys too) in a parsed body, with its path. */
function strings(v: unknown, at = '$'): Array<[string, string]> {
  if (typeof v === 'string') return [[at, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${at}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [[`${at}{key}`, k] as [string, string], ...strings(x, `${at}.${k}`)]);
  return [];
}
function expectWellFormed(body: unknown): void {
  const broken = strings(body).filter(([, s]) => LONE.test(s)).map(([p]) => p);
  expect(broken).toEqual([]);
}
const bodyOf = (r: HttpRequest): any => JSON.parse(r.body!);
const bytes = (r: HttpRequest) => Buffer.byteLength(r.body!, 'utf8');
/** The largest body seen per builder, reported at the end. */
const largest: Record<string, number> = {};
const seen = (name: string, r: HttpRequest) => {
  largest[name] = Math.max(largest[name] ?? 0, bytes(r));
};
afterAll(() => console.log(`largest bodies (bytes): ${JSON.stringify(largest)}`));

/** At most `max` UTF-16 units. */
const within = (s: unknown, max: number, what: string) => {
  expect({ what, units: typeof s === 'string' ? s.length : -1 }).toEqual({ what, units: Math.min(typeof s === 'string' ? s.length : -1, max) });
};

/** Slack text or mrkdwn: no `<` or `>` at all, and every `&` starts one of the three escapes. */
function expectSlackEscaped(s: string, what: string): void {
  expect({ what, lt: s.includes('<'), gt: s.includes('>'), bareAmp: /&(?!amp;|lt;|gt;)/.test(s) }).toEqual({ what, lt: false, gt: false, bareAmp: false });
}

/** Jira wiki markup: every `[ ] { } ! |` is escaped (an odd run of backslashes before it). */
function unescapedWiki(s: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < s.length; i++) {
    if (!'[]{}!|'.includes(s[i]!)) continue;
    let n = 0;
    while (i - n - 1 >= 0 && s[i - n - 1] === '\\') n++;
    if (n % 2 === 0) found.push(s.slice(Math.max(0, i - 10), i + 10));
  }
  return found;
}

// ---- the properties ----------------------------------------------------------------------------------------------

describe('provider builders keep every documented limit, for any incident the API accepts', () => {
  test('PagerDuty: trigger, acknowledge, resolve', () => {
    fc.assert(fc.property(incident, (inc) => {
      const t = buildTrigger('https://events.pagerduty.com/v2/enqueue', 'R0UT1NGKEY0000000000000000000001', inc);
      seen('pagerduty trigger', t);
      const b = bodyOf(t);
      expect(bytes(t)).toBeLessThanOrEqual(PD_BODY_BYTES);
      within(b.payload.summary, PD_SUMMARY, 'payload.summary');
      within(b.payload.source, 255, 'payload.source');
      expect(b.dedup_key).toBe(`probectl-${inc.id}`);
      expectWellFormed(b);
      for (const action of ['acknowledge', 'resolve'] as const) {
        const f = buildFollowUp('https://events.pagerduty.com/v2/enqueue', 'R0UT1NGKEY0000000000000000000001', inc, action);
        expect(bodyOf(f).dedup_key).toBe(`probectl-${inc.id}`);
        expect(bytes(f)).toBeLessThanOrEqual(PD_BODY_BYTES);
      }
    }), withWorst);
  });

  test('Opsgenie: create, acknowledge, close', () => {
    const options = ogOptions.parse({ tags: 'network;edge;😀'.padEnd(70, '😀') });
    fc.assert(fc.property(incident, resolution, (inc, res) => {
      const c = ogCreate('https://api.opsgenie.com/v2/alerts', 'KEY', inc, options);
      seen('opsgenie create', c);
      const b = bodyOf(c);
      within(b.message, OG_MESSAGE, 'message');
      expect(b.message.trim()).not.toBe('');
      within(b.description, OG_DESCRIPTION, 'description');
      within(b.entity, OG_ENTITY, 'entity');
      expect(b.tags.length).toBeLessThanOrEqual(OG_TAGS);
      for (const tag of b.tags) within(tag, OG_TAG, 'tag');
      expect(JSON.stringify(b.details).length).toBeLessThanOrEqual(OG_DETAILS);
      expect(b.alias).toBe(`probectl-${inc.id}`);
      expectWellFormed(b);
      for (const [action, note] of [['acknowledge', `Acknowledged by ${res.actor ?? ''} in probectl`], ['close', resolvedBy(res)]] as const) {
        const a = buildAliasAction('https://api.opsgenie.com/v2/alerts', 'KEY', inc, action, note);
        within(bodyOf(a).note, OG_NOTE, 'note');
        expectWellFormed(bodyOf(a));
      }
    }), withWorstPair);
  });

  test('Slack: webhook posts, chat.postMessage, chat.update, thread reply', () => {
    const HOOK = 'https://hooks.slack.com/services/T0/B0/x';
    const API = 'https://slack.com/api/chat.postMessage';
    fc.assert(fc.property(incident, resolution, (inc, res) => {
      const resolved = { note: resolvedBy(res) };
      const requests = [
        buildWebhookPost(HOOK, inc), buildWebhookPost(HOOK, inc, resolved),
        buildPostMessage(API, 'xoxb-1', 'C0', inc), buildPostMessage(API, 'xoxb-1', 'C0', inc, resolved, '1.000001'),
        buildUpdate(API, 'xoxb-1', 'C0', '1.000001', inc, resolved),
      ];
      for (const r of requests) {
        seen('slack', r);
        const b = bodyOf(r);
        within(b.text, SLACK_TEXT, 'text');
        expectSlackEscaped(b.text, 'text');
        for (const block of b.blocks) {
          if (block.type === 'header') within(block.text.text, SLACK_HEADER, 'header');
          if (block.type === 'section') {
            within(block.text.text, SLACK_TEXT_OBJECT, 'section');
            expectSlackEscaped(block.text.text, 'section');
          }
          if (block.type === 'context') {
            for (const e of block.elements) {
              within(e.text, SLACK_TEXT_OBJECT, 'context');
              expectSlackEscaped(e.text, 'context');
            }
          }
          if (block.type === 'actions') for (const e of block.elements) within(e.url, 3_000, 'button url');
        }
        expectWellFormed(b);
      }
    }), withWorstPair);
  });

  test('Teams: opened and resolved cards', () => {
    fc.assert(fc.property(incident, resolution, (inc, res) => {
      for (const r of [buildCardPost('https://x.logic.azure.com/workflows/1?sig=s', inc), buildCardPost('https://x.logic.azure.com/workflows/1?sig=s', inc, resolvedBy(res))]) {
        seen('teams', r);
        expect(bytes(r)).toBeLessThanOrEqual(TEAMS_BODY_BYTES);
        const card = bodyOf(r).attachments[0].content;
        within(card.body[0].inlines[0].text, 256, 'title');
        // the summary or the note: the last run of the last block (an opened card without a summary ends with openedAt)
        within(card.body.at(-1).inlines.at(-1).text, 4_000, 'summary or note');
        // no incident text where Teams reads Markdown (TextBlock.text, fact titles and values): every text is a TextRun
        expect(cardStrings(card).markdown).toEqual([]);
        expectWellFormed(bodyOf(r));
      }
    }), withWorstPair);
  });

  test('ServiceNow: create and resolve', () => {
    fc.assert(fc.property(incident, resolution, (inc, res) => {
      const c = snCreate('https://acme.service-now.com', 'u:p', inc);
      seen('servicenow create', c);
      const b = bodyOf(c);
      within(b.short_description, SN_SHORT, 'short_description');
      within(b.description, SN_DESCRIPTION, 'description');
      expect(b.correlation_id).toBe(`probectl-${inc.id}`);
      expectWellFormed(b);
      const r = snResolve('https://acme.service-now.com', 'u:p', 'a'.repeat(32), `${resolvedBy(res)} (probectl incident ${inc.id})`);
      within(bodyOf(r).close_notes, SN_CLOSE_NOTES, 'close_notes');
      expectWellFormed(bodyOf(r));
    }), withWorstPair);
  });

  test('Jira: create (summary one line, description wiki-escaped)', () => {
    const options = jiraOptions.parse({ project: 'OPS' });
    fc.assert(fc.property(incident, (inc) => {
      const c = jiraCreate('https://acme.atlassian.net/rest/api/2/issue', 'a@b.c:t', inc, options);
      seen('jira create', c);
      const f = bodyOf(c).fields;
      within(f.summary, JIRA_SUMMARY, 'summary');
      expect(f.summary).not.toMatch(/[\r\n\v\f\u0085\u2028\u2029]/);
      expect(f.summary.trim()).not.toBe('');
      within(f.description, JIRA_DESCRIPTION, 'description');
      expect(unescapedWiki(f.description)).toEqual([]);
      expect(f.labels).toEqual(['probectl', `probectl-${inc.id}`]);
      expectWellFormed(bodyOf(c));
    }), withWorst);
  });
});

// Jira wiki markup that acts at the start of a line, and the backslash: every construct × at the text's start and
// after a line break, in the summary (the description's first line) and in a label key (a line of its own).
describe('Jira description: line-start markup and backslashes show as typed', () => {
  const CONSTRUCTS = ['h1. Heading', 'H3. heading', 'bq. quoted', '---- rule', '----', '* bullet', '** nested', '# numbered', '- dash item', '-- two'];
  const options = jiraOptions.parse({ project: 'OPS' });
  const base: Incident = { id: 'inc-wiki', tenantId: 'acme', title: 'Packet loss', severity: 'critical', openedAt: '2026-12-03T10:00:00Z' };
  const description = (inc: Incident) => bodyOf(jiraCreate('https://acme.atlassian.net/rest/api/2/issue', 'a@b.c:t', inc, options)).fields.description as string;
  const starts = ['h1.', 'h3.', 'bq.', '----', '*', '#', '- '];
  const markupStart = (line: string) => starts.some((m) => line.toLowerCase().startsWith(m));

  test.each(CONSTRUCTS.flatMap((c) => [[c, 'at the start'], [c, 'after a line break']] as const))('%p %s', (construct, where) => {
    const text = where === 'at the start' ? construct : `first line\n${construct}`;
    for (const inc of [{ ...base, summary: text }, { ...base, labels: { [text.replace(/\n/g, ' ')]: 'v' } }, { ...base, summary: `x\n${text}` }]) {
      const lines = description(inc).split('\n');
      expect(lines.filter(markupStart)).toEqual([]);
    }
  });

  test.each(['C:\\temp', '\\\\server\\share', 'end\\', '\\[x|https://evil.example]'])('%p: a backslash is an entity, never a forced line break (\\\\) nor an escape of what follows', (text) => {
    const d = description({ ...base, summary: text });
    expect(d).not.toMatch(/\\\\/);
    expect(d.split('\n')[0]).toContain('&#92;');
    expect(unescapedWiki(d)).toEqual([]);
  });
});
