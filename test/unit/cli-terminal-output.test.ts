/**
 * No raw control character reaches the operator's terminal from any CLI printer: titles, actors, details, link
 * references and errors come from `/v1` callers, providers and inbound Jira / ServiceNow deliveries (the audit: a
 * title `\u001b]52;c;…\u0007\u001b[2J` writes the clipboard and clears the screen on `incident show`). Every printer
 * × every hostile character (C0, ESC, CSI as C1 \x9b, BEL, DEL, NUL, CR, U+2028/2029, bidi overrides and isolates)
 * × every position, and fuzzed mixes; ordinary text — any script, emoji, a backslash — prints unchanged, one line per
 * line (a newline in a value starts no line of its own). Pure: the printers with the streams runCli gives them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { printCheck, type CheckResult } from '../../src/cli/commands/connectors-check';
import { printConnectors, type describeConnector } from '../../src/cli/commands/connectors-list';
import { printLink, printLinks, printState } from '../../src/cli/commands/incident-show';
import type { Io } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';
import { forTerminal, oneLine, terminalIo } from '../../src/cli/terminal';
import type { IncidentStateView, Link } from '../../src/shared/contract';

const HOSTILE = [
  '\x1b', '\x9b', '\x07', '\x7f', '\x00', '\r', '\n', '\t', '\b', '\x85', '\x90', '\x9c', '\x9d', '\x9f',
  '\u2028', '\u2029', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c',
];
/** Any character a terminal acts on (the newline that ends what one `out` call writes aside). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/; // eslint-disable-line no-control-regex
const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
const ORDINARY = 'Packet loss 🚨 на edge-3 — 東京 ⚠️ שלום مرحبا C:\\path 100% "ok" <b> &amp; é';

function capture() {
  const calls: Array<['out' | 'err', string]> = [];
  const raw: Io = { out: (t) => void calls.push(['out', t]), err: (t) => void calls.push(['err', t]) };
  return { io: terminalIo(raw), calls, text: () => calls.map(([, t]) => t).join('\n') };
}

const link = (s: string, status: Link['status'] = 'failed'): Link => ({
  connectorId: `pd${s}`, provider: 'pagerduty', status, externalRef: `ref${s}`, externalUrl: `https://x.example/${s}`, error: `refused: ${s}`, updatedAt: '2026-01-01T00:00:00.000Z',
} as Link);

function state(s: string): IncidentStateView {
  return {
    incident: { id: `inc${s}`, tenantId: `acme${s}`, title: s, severity: 'critical', source: `src${s}`, openedAt: '2026-01-01T00:00:00.000Z', summary: s, labels: { [s]: s } },
    status: 'RUNNING',
    links: [link(s), link(s, 'open')],
    timeline: [
      { seq: 1, at: '2026-01-01T00:00:00.000Z', kind: 'incident.opened', source: s, actor: s, detail: s },
      { seq: 2, at: '2026-01-01T00:00:01.000Z', kind: 'connector.failed', connectorId: `pd${s}`, actor: `jira:${s}`, detail: `error ${s}` },
    ],
  } as unknown as IncidentStateView;
}

const check = (s: string): CheckResult => ({ tenant: `acme${s}`, connector: `jira${s}`, provider: 'jira', ok: false, checks: [{ name: 'reachable', ok: true, detail: `host ${s}` }, { name: 'jira createmeta', ok: false, detail: `types: ${s}` }] });
const row = (s: string) => ({ tenant: `acme${s}`, id: `c${s}`, provider: 'jira', entry: 1, endpoint: `https://h${s}/p`, credential: `<secret>…${s}`, options: { [s]: s, project: s }, implemented: true }) as ReturnType<typeof describeConnector>;

/** Each printer, with the number of lines it prints for one value. */
const PRINTERS: Array<[string, (io: Io, s: string) => void, number]> = [
  ['incident show (printState)', (io, s) => printState(io, state(s)), 8],
  ['incident redrive (printLink)', (io, s) => printLink(io, link(s)), 1],
  ['incident resolve --wait (printLinks)', (io, s) => printLinks(io, [link(s), link(s, 'resolved')]), 2],
  ['connectors check (printCheck)', (io, s) => printCheck(io, check(s)), 1],
  ['connectors list (printConnectors)', (io, s) => printConnectors(io, [row(s), row(`${s}2`)]), 4],
];

describe.each(PRINTERS)('%s', (_name, print, lines) => {
  test.each(HOSTILE.map((h) => [escaped(h), h]))('%s at every position of every field: escaped visibly, the rest unchanged, no extra line', (_e, h) => {
    const chars = Array.from(ORDINARY);
    for (let i = 0; i <= chars.length; i += 1) {
      const s = [...chars.slice(0, i), h, ...chars.slice(i)].join('');
      const { io, calls, text } = capture();
      print(io, s);
      expect(calls).toHaveLength(lines);
      for (const [, t] of calls) expect(t).not.toMatch(RAW_CONTROL);
      expect(text()).toContain([...chars.slice(0, i), escaped(h), ...chars.slice(i)].join(''));
    }
  });

  test('ordinary text (scripts, emoji, backslashes) prints unchanged', () => {
    const { io, calls, text } = capture();
    print(io, ORDINARY);
    expect(calls).toHaveLength(lines);
    expect(text()).toContain(ORDINARY);
    expect(text()).not.toContain('\\u');
  });

  test('fuzz: any mix of hostile characters and any text, in every field', () => {
    const piece = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), (s) => {
        const { io, calls } = capture();
        print(io, s);
        expect(calls).toHaveLength(lines);
        for (const [, t] of calls) {
          expect(t).not.toMatch(RAW_CONTROL);
          expect(t).not.toContain('\n');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('forTerminal / oneLine', () => {
  test('the audit\'s title: OSC 52, BEL, CSI clear screen', () => {
    const title = '\u001b]52;c;Y3VybCBldmlsLnNofHNo\u0007\u001b[2J';
    expect(forTerminal(title)).toBe('\\u001b]52;c;Y3VybCBldmlsLnNofHNo\\u0007\\u001b[2J');
    expect(oneLine('\u001b]8;;https://evil.example\u0007docs\u001b]8;;\u0007')).toBe('\\u001b]8;;https://evil.example\\u0007docs\\u001b]8;;\\u0007');
  });

  test('text without those characters is returned as it is (the same string)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      fc.pre(!RAW_CONTROL.test(s));
      expect(forTerminal(s)).toBe(s);
      expect(oneLine(s)).toBe(s);
    }));
    expect(forTerminal('a\nb')).toBe('a\nb');
    expect(oneLine('a\nb')).toBe('a\\u000ab');
  });

  test('a --json document stays valid, parses to the same value, and is unchanged when it holds none of them', () => {
    const value = fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.constantFrom(...HOSTILE, 'x', 'é', '🚨', '\\', '"')).map((a) => a.join('')));
    fc.assert(fc.property(fc.dictionary(value, value), fc.boolean(), (v, pretty) => {
      const json = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
      const printed = forTerminal(json);
      expect(printed).not.toMatch(RAW_CONTROL);
      expect(JSON.parse(printed)).toEqual(JSON.parse(json));
      if (!RAW_CONTROL.test(json.replace(/\n/g, ''))) expect(printed).toBe(json);
    }), { numRuns: 500 });
  });
});

describe('through runCli: what it prints goes through the same escaping', () => {
  async function cli(argv: string[], env: Record<string, string> = {}) {
    const calls: string[] = [];
    const code = await runCli(argv, env, { out: (t) => void calls.push(t), err: (t) => void calls.push(t) });
    return { code, text: calls.join('\n') };
  }

  // Test names carry the escaped form: a raw character in a name would reach the test log's terminal.
  test.each(HOSTILE.filter((h) => h !== '\n').map((h) => [escaped(h), h]))('an unknown command holding %s is echoed escaped', async (_e, h) => {
    const r = await cli([`frob${h}]52;c;eA==\x07`]);
    expect(r.code).toBe(2);
    expect(r.text).toContain(`frob${escaped(h)}]52;c;eA==\\u0007`);
    expect(r.text).not.toMatch(RAW_CONTROL);
  });

  test.each(HOSTILE.map((h) => [escaped(h), h]))('an inbound entry id holding %s, quoted in an error, is escaped', async (_e, h) => {
    const r = await cli(['sign', '--entry', `sn${h}x\u202e`, '--file', '/dev/null'], { PROBECTL_NOTIFY_INBOUND: 'sn-a:acme:servicenow:inbound-secret-0123456789abcdef' });
    expect(r.code).toBe(1);
    expect(r.text).toContain('has no entry');
    expect(r.text).not.toMatch(RAW_CONTROL);
  });
});

test('no CLI file writes to the process streams or the console but through Io (io.ts\'s processIo, main.ts\'s escaped last resort)', () => {
  const dir = join(__dirname, '..', '..', 'src', 'cli');
  const files = [...readdirSync(dir).filter((f) => f.endsWith('.ts')), ...readdirSync(join(dir, 'commands')).map((f) => join('commands', f))];
  expect(files.length).toBeGreaterThan(15);
  const offenders = files.flatMap((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    const uses = text.split('\n').filter((l) => /process\.(stdout|stderr)|console\.|\.write\(/.test(l));
    if (f === 'io.ts') return uses.length === 2 ? [] : [`${f}: ${uses.length} writes`];
    if (f === 'main.ts') return uses.every((l) => l.includes('forTerminal(')) ? [] : [f];
    return uses.map((l) => `${f}: ${l.trim()}`);
  });
  expect(offenders).toEqual([]);
});
