/**
 * Credential fragments in provider answers, as a class: every substring of 8 or more characters of a configured
 * secret, plain or encoded (URL-encoded, JSON-escaped, base64 as in `Basic user:password`, hex), planted at every
 * offset of an answer of 0–4 KiB, must leave no 8-character run of itself, or of the secret, in any text that
 * leaves the process from a provider's answer: activity failure messages (classify.ts, hence link errors, the
 * timeline, /v1 state and logs, which carry that message), the callback's failure, and excerpts.
 *
 * On main at 528100c `excerpt()` cut the answer to 300 characters first and scrubbed afterwards, so a key
 * straddling the cut kept its first part (measured there: a 32-character routing key starting at offsets 269–292 kept 8 or more characters), and a fragment of a
 * key was never recognised at all.
 *
 * Secret material of a webhook URL is its path and query (the host is public: `connectors list` shows it);
 * everything else is secret whole.
 */
import fc from 'fast-check';
import { callbackFailure } from '../../src/activities/callback-activities';
import { failureFor } from '../../src/http/classify';
import { FRAGMENT, excerpt, scrub, secretMaterial } from '../../src/http/scrub';
import { secretsOf } from '../../src/providers/types';
import { ticketUrl } from '../../src/providers/servicenow/build';
import { browseUrl } from '../../src/providers/jira/build';
import { parseConnectors } from '../../src/config/connectors';

const N = FRAGMENT;

type Encoding = 'plain' | 'url' | 'url-lower' | 'json' | 'json-slash' | 'base64' | 'base64url' | 'hex';
const ENCODINGS: Encoding[] = ['plain', 'url', 'url-lower', 'json', 'json-slash', 'base64', 'base64url', 'hex'];

function encode(v: string, e: Encoding): string {
  switch (e) {
    case 'plain': return v;
    case 'url': return encodeURIComponent(v);
    case 'url-lower': return encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    case 'json': return JSON.stringify(v).slice(1, -1);
    case 'json-slash': return JSON.stringify(v).slice(1, -1).replace(/\//g, '\\/');
    case 'base64': return Buffer.from(v, 'utf8').toString('base64');
    case 'base64url': return Buffer.from(v, 'utf8').toString('base64url');
    case 'hex': return Buffer.from(v, 'utf8').toString('hex');
  }
}

/** An 8-character run of `ref` that appears in `out`, if any. */
function leak(out: string, refs: readonly string[]): string | undefined {
  for (const ref of refs) {
    for (let i = 0; i + N <= ref.length; i++) {
      const w = ref.slice(i, i + N);
      if (out.includes(w)) return w;
    }
  }
  return undefined;
}

/** Every way text built from a provider's (or probectl's) answer leaves the process. */
const EXITS: Array<[string, (text: string, secrets: string[]) => string]> = [
  ['classify 400', (text, secrets) => failureFor({ status: 400, headers: {}, text }, { label: 'PagerDuty', action: 'trigger', secrets })!.message],
  ['classify 401', (text, secrets) => failureFor({ status: 401, headers: {}, text }, { label: 'Jira', action: 'create', secrets })!.message],
  ['classify 429', (text, secrets) => failureFor({ status: 429, headers: {}, text }, { label: 'Slack', action: 'post', secrets })!.message],
  ['classify 503', (text, secrets) => failureFor({ status: 503, headers: {}, text }, { label: 'ServiceNow', action: 'create', secrets })!.message],
  ['callback 500', (text, secrets) => callbackFailure(500, text, undefined, secrets).message],
  ['excerpt', (text, secrets) => excerpt(text, secrets)],
  ['excerpt 40', (text, secrets) => excerpt(text, secrets, 40)],
  ['scrub', (text, secrets) => scrub(text, secrets)],
];

const FILLER = 'abcdefghijklmnopqrstuvwxyz {}":,.-_\n';
const filler = (n: number, seed = 7) => {
  let x = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += FILLER[x % FILLER.length];
  }
  return out;
};

describe('no fragment of a secret survives, at any offset, in any encoding', () => {
  // A routing key, a user:password credential with symbols, and a Slack webhook URL (secret in its path).
  const KEY = 'R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ';
  const BASIC = 'alice@acme.example:ATATT3x/Ff+tok=en"9\\q';
  const WEBHOOK = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX';
  const SECRETS = [KEY, BASIC, WEBHOOK];

  test('the straddling sweep: every substring of 8+ characters of each secret, each encoding, at every offset around the 300-character cut', () => {
    const failures: string[] = [];
    let checks = 0;
    for (const secret of SECRETS) {
      for (const material of secretMaterial(secret)) {
        for (let start = 0; start + N <= material.length; start += 3) {
          for (let end = start + N; end <= material.length; end += 5) {
            const fragment = material.slice(start, end);
            for (const e of ENCODINGS) {
              const planted = encode(fragment, e);
              for (const offset of [0, 250, 269, 280, 292, 296, 299, 300, 301]) {
                const text = `${filler(offset)}${planted}${filler(200, offset)}`;
                const out = EXITS[0]![1](text, SECRETS);
                checks += 1;
                const w = leak(out, [planted, material]);
                if (w) failures.push(`${e} ${JSON.stringify(fragment)} at ${offset}: ${JSON.stringify(w)} survived`);
              }
            }
          }
        }
      }
    }
    expect(checks).toBeGreaterThan(10_000);
    expect(failures.slice(0, 20)).toEqual([]);
  });

  const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=:@"\\-_.~!$&\'()*,;%éü€😀');
  const secretArb = fc.string({ unit: alphabet, minLength: 8, maxLength: 64 });

  test.each(EXITS)('property (%s): a random secret, fragment, encoding, answer length 0–4 KiB and offset', (_name, exit) => {
    fc.assert(
      fc.property(
        secretArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...ENCODINGS),
        fc.integer({ min: 0, max: 4096 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (secret, a, b, encoding, length, where) => {
          const chars = [...secret];
          const len = N + Math.floor(a * (chars.length - N + 1));
          const start = Math.floor(b * (chars.length - len + 1));
          const fragment = chars.slice(start, start + len).join('');
          fc.pre(fragment.length >= N);
          const planted = encode(fragment, encoding);
          const body = filler(length, length + 1);
          const at = Math.floor(where * (body.length + 1));
          const text = `${body.slice(0, at)}${planted}${body.slice(at)}`;
          const out = exit(text, [secret, 'https://hooks.example/services/T1/B2/ZZZZZZZZZZZZ']);
          expect(leak(out, [planted, secret])).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  test('what is not a secret stays readable: the host of a webhook URL, ordinary text, a short secret only where whole', () => {
    const out = excerpt(`POST https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX failed: channel_not_found`, SECRETS);
    expect(out).toBe('POST https://hooks.slack.com<secret> failed: channel_not_found');
    expect(scrub('no secret here at all', SECRETS)).toBe('no secret here at all');
    expect(scrub('pin 4321 and 43210', ['4321'])).toBe('pin <secret> and <secret>0');
  });

  test('a 1 MiB answer (the HTTP client\'s limit) is scrubbed whole: a key at its very end is found', () => {
    const big = filler(1024 * 1024) + KEY;
    expect(scrub(big, SECRETS).endsWith('<secret>')).toBe(true);
    expect(excerpt(big, SECRETS).length).toBeLessThanOrEqual(301);
  });
});

/**
 * What a ticket connector's open returns is scrubbed with the connector's secrets before it reaches history, the
 * mirror and /v1 (connector-activities.ts). The secrets included the connector's whole URL, whose path — for a
 * ServiceNow connector configured with its documented table endpoint — is `/api/now/table/incident`: every
 * 8-character run of it counts as secret, so the ticket link `…/nav_to.do?uri=incident.do%3Fsys_id%3D…` came back
 * as `…/nav_to.do?uri=<secret>.do…`, a broken link in every answer. Only chat webhook URLs are credentials
 * (design.md); a pager's or ticket tool's URL is an API endpoint, and only a query it keeps is unknown.
 */
describe('the links a ticket connector opens stay usable; chat webhook URLs stay secret', () => {
  const SYS_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
  test.each([
    ['https://acme.service-now.com/api/now/table/incident', (u: string) => ticketUrl(u, SYS_ID)],
    ['https://acme.service-now.com', (u: string) => ticketUrl(u, SYS_ID)],
  ])('servicenow at %s', (url, link) => {
    const [c] = parseConnectors(`acme|servicenow|${url}|svc-notify:S3cr3tPassw0rd`);
    expect(scrub(link(c!.url.reveal()), secretsOf(c!))).toBe(link(c!.url.reveal()));
  });
  test('jira', () => {
    const [c] = parseConnectors('acme|jira|https://acme.atlassian.net/rest/api/2/issue?project=OPS|alice@acme.com:ATATT3xFfGF0token');
    const link = browseUrl(c!.url.reveal(), 'OPS-12');
    expect(scrub(link, secretsOf(c!))).toBe(link);
  });
  test('a Slack or Teams webhook URL, and an unknown query parameter of any URL, are still secret', () => {
    const [slack, teams, pd] = parseConnectors([
      'acme|slack|https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX|-',
      'acme|teams|https://prod-12.westus.logic.azure.com/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGs1gS1Gs1g0123456789|-',
      'acme|pagerduty|https://events.pagerduty.com/v2/enqueue?x-extra-key=Q9kZ3vJ7wX1mN5pL|R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ',
    ].join(','));
    expect(scrub('posted to /services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX', secretsOf(slack!))).not.toContain('XXXXXXXX');
    expect(scrub('sig=SIGs1gS1Gs1g0123456789 /workflows/0123abcd/triggers', secretsOf(teams!))).not.toMatch(/SIGs1gS1|0123abcd/);
    expect(scrub('refused x-extra-key=Q9kZ3vJ7wX1mN5pL', secretsOf(pd!))).not.toContain('Q9kZ3vJ7');
  });
});
