/**
 * scrubbedFailure (src/http/failures.ts), the last pass on everything a connector activity throws: every kind of error
 * × the secret planted in its message, its stack and each of its causes (down to the depth it promises) × every
 * encoding the scrubber knows — no 8-character window is left anywhere, and what Temporal reads besides the text (the
 * failure's type, retryability, details, next-retry delay, the error's identity) is unchanged.
 */
import { ApplicationFailure } from '@temporalio/common';
import { scrubbedFailure, retryable, permanent } from '../../src/http/failures';
import { leakedWindows } from '../helpers/leaks';

const SECRET = 'alice@acme.com:ATATT3xJiraTokenPlanted0123';
const ENCODINGS: Record<string, (s: string) => string> = {
  raw: (s) => s, base64: (s) => Buffer.from(s).toString('base64'), url: encodeURIComponent, json: (s) => JSON.stringify(s).slice(1, -1),
};
const text = (e: unknown): string => {
  const parts: string[] = [];
  for (let x = e, d = 0; x instanceof Error && d < 10; x = x.cause, d++) parts.push(x.message, x.stack ?? '');
  return parts.join('\n');
};

const KINDS: Record<string, (m: string) => Error> = {
  'a permanent ApplicationFailure': (m) => permanent('ProviderRejected', m),
  'a retryable one with a delay': (m) => retryable('RateLimited', m, 5_000),
  'a plain Error': (m) => new Error(m),
  'a TypeError': (m) => new TypeError(m),
};

describe.each(Object.keys(ENCODINGS))('the secret %s', (enc) => {
  const planted = ENCODINGS[enc]!(SECRET);
  test.each(Object.keys(KINDS))('%s: in the message, the stack and four causes deep — none left, the rest unchanged', (kind) => {
    const err = KINDS[kind]!(`Jira transition 41 ${planted}: HTTP 400`);
    err.stack = `${err.name}: stack line naming ${planted}\n    at somewhere (${planted}.js:1:1)`;
    let tail: Error = err;
    for (let d = 1; d <= 4; d++) {
      const cause = new Error(`cause ${d}: ${planted}`);
      tail.cause = cause;
      tail = cause;
    }
    const before = err instanceof ApplicationFailure ? { type: err.type, nonRetryable: err.nonRetryable, details: err.details, delay: err.nextRetryDelay } : undefined;
    expect(text(err)).toContain(planted); // planted where the pass must find it
    const out = scrubbedFailure(err, [SECRET]);
    expect(out).toBe(err);
    expect(leakedWindows([SECRET, planted], text(out), 'after')).toEqual([]);
    expect(err.message).toMatch(/^Jira transition 41 .*: HTTP 400$/);
    if (before) expect({ type: (err as ApplicationFailure).type, nonRetryable: (err as ApplicationFailure).nonRetryable, details: (err as ApplicationFailure).details, delay: (err as ApplicationFailure).nextRetryDelay }).toEqual(before);
  });
});

test('something that is not an Error goes through untouched', () => {
  for (const v of [undefined, null, 'text', 42, { message: SECRET }]) expect(scrubbedFailure(v, [SECRET])).toBe(v);
});
