import { createHmac } from 'node:crypto';
import {
  REPLAY_WINDOW_SECONDS, decodeDigest, hasCredential, tokenMatches, verifyProbectlSignature, verifySignature,
} from '../../../src/api/inbound/verify';
import { verifyHubSignature } from '../../../src/providers/jira/signature';
import { verifyPagerDutySignature } from '../../../src/providers/pagerduty/signature';

const SECRET = 'inbound-secret-0123456789:with:colons';
const OTHER = 'another-secret-9876543210';
const body = Buffer.from('{"external_ref":"probectl-inc-1","status":"resolved"}');
const mac = (secret: string, data: Buffer | string) => createHmac('sha256', secret).update(data).digest();
const NOW = 1_750_000_000_000;

describe('token', () => {
  test('matches any of the secrets, constant-time over digests', () => {
    expect(tokenMatches(SECRET, [SECRET])).toBe(true);
    expect(tokenMatches(SECRET, [OTHER, SECRET])).toBe(true);
    expect(tokenMatches(OTHER, [SECRET])).toBe(false);
    expect(tokenMatches('', [SECRET])).toBe(false);
    expect(tokenMatches(SECRET.slice(0, -1), [SECRET])).toBe(false);
    expect(tokenMatches(`${SECRET}x`, [SECRET])).toBe(false);
    expect(tokenMatches(SECRET, [])).toBe(false);
  });
});

describe('X-Probectl-Signature', () => {
  test('hex and base64 (padded, unpadded, URL-safe) of the right HMAC verify', () => {
    const d = mac(SECRET, body);
    for (const enc of [d.toString('hex'), d.toString('hex').toUpperCase(), d.toString('base64'), d.toString('base64').replace(/=+$/, ''), d.toString('base64url')]) {
      expect(verifyProbectlSignature(`sha256=${enc}`, undefined, body, [SECRET], NOW)).toEqual({ ok: true, method: 'probectl-signature' });
    }
  });

  test('wrong secret, other body, truncated, malformed or missing prefix are refused', () => {
    const good = mac(SECRET, body).toString('hex');
    expect(verifyProbectlSignature(`sha256=${mac(OTHER, body).toString('hex')}`, undefined, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(`sha256=${good}`, undefined, Buffer.from(`${body.toString()} `), [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(`sha256=${good.slice(0, 63)}`, undefined, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(`sha256=${good.slice(0, 32)}`, undefined, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(`sha256=${mac(SECRET, body).toString('base64').slice(0, 40)}`, undefined, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(good, undefined, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature('sha256=', undefined, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(`sha1=${good}`, undefined, body, [SECRET], NOW).ok).toBe(false);
  });

  test('any secret of the entry may sign (rotation)', () => {
    const sig = `sha256=${mac(OTHER, body).toString('hex')}`;
    expect(verifyProbectlSignature(sig, undefined, body, [SECRET, OTHER], NOW).ok).toBe(true);
  });

  test('timestamped: HMAC over v1:<ts>:<body>, inside the replay window only', () => {
    const ts = String(Math.floor(NOW / 1000));
    const sig = `sha256=${mac(SECRET, Buffer.concat([Buffer.from(`v1:${ts}:`), body])).toString('hex')}`;
    expect(verifyProbectlSignature(sig, ts, body, [SECRET], NOW)).toEqual({ ok: true, method: 'probectl-signature-timestamped' });
    // the same signature replayed later than the window
    expect(verifyProbectlSignature(sig, ts, body, [SECRET], NOW + (REPLAY_WINDOW_SECONDS + 1) * 1000).ok).toBe(false);
    expect(verifyProbectlSignature(sig, ts, body, [SECRET], NOW - (REPLAY_WINDOW_SECONDS + 1) * 1000).ok).toBe(false);
    expect(verifyProbectlSignature(sig, ts, body, [SECRET], NOW + (REPLAY_WINDOW_SECONDS - 1) * 1000).ok).toBe(true);
    // a body-only signature presented with a timestamp does not verify, nor does a changed timestamp
    expect(verifyProbectlSignature(`sha256=${mac(SECRET, body).toString('hex')}`, ts, body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(sig, String(Number(ts) + 1), body, [SECRET], NOW).ok).toBe(false);
    expect(verifyProbectlSignature(sig, 'yesterday', body, [SECRET], NOW).ok).toBe(false);
  });
});

describe('provider signatures', () => {
  test('Jira X-Hub-Signature sha256=<hex>', () => {
    const hex = mac(SECRET, body).toString('hex');
    expect(verifyHubSignature(`sha256=${hex}`, body, [SECRET])).toEqual({ ok: true, method: 'hub-signature' });
    expect(verifyHubSignature(`sha256=${mac(OTHER, body).toString('hex')}`, body, [SECRET]).ok).toBe(false);
    expect(verifyHubSignature(`sha256=${mac(SECRET, body).toString('base64')}`, body, [SECRET]).ok).toBe(false);
    expect(verifyHubSignature(hex, body, [SECRET]).ok).toBe(false);
  });

  test('PagerDuty X-PagerDuty-Signature: several v1= values, any may match', () => {
    const good = `v1=${mac(SECRET, body).toString('hex')}`;
    const old = `v1=${mac(OTHER, body).toString('hex')}`;
    expect(verifyPagerDutySignature(good, body, [SECRET]).ok).toBe(true);
    expect(verifyPagerDutySignature(`${old},${good}`, body, [SECRET]).ok).toBe(true);
    expect(verifyPagerDutySignature(`${good}, ${old}`, body, [SECRET]).ok).toBe(true);
    expect(verifyPagerDutySignature(old, body, [SECRET]).ok).toBe(false);
    expect(verifyPagerDutySignature(`v0=${mac(SECRET, body).toString('hex')}`, body, [SECRET]).ok).toBe(false);
    expect(verifyPagerDutySignature(good.slice(0, -2), body, [SECRET]).ok).toBe(false);
    expect(verifyPagerDutySignature('', body, [SECRET]).ok).toBe(false);
  });

  test('verifySignature: provider headers only count for their provider', () => {
    const hub = { 'x-hub-signature': `sha256=${mac(SECRET, body).toString('hex')}` };
    const pd = { 'x-pagerduty-signature': `v1=${mac(SECRET, body).toString('hex')}` };
    expect(verifySignature('jira', hub, body, [SECRET], NOW).ok).toBe(true);
    expect(verifySignature('servicenow', hub, body, [SECRET], NOW).ok).toBe(false);
    expect(verifySignature('pagerduty', pd, body, [SECRET], NOW).ok).toBe(true);
    expect(verifySignature('opsgenie', pd, body, [SECRET], NOW).ok).toBe(false);
    expect(hasCredential('servicenow', hub)).toBe(false);
    expect(hasCredential('jira', hub)).toBe(true);
    expect(hasCredential('opsgenie', { 'x-probectl-token': 'x' })).toBe(true);
    expect(hasCredential('opsgenie', {})).toBe(false);
    // X-Probectl-Signature decides when present, even if the provider's own header would match
    expect(verifySignature('jira', { ...hub, 'x-probectl-signature': 'sha256=00' }, body, [SECRET], NOW).ok).toBe(false);
  });

  test('decodeDigest accepts only 32-byte digests', () => {
    expect(decodeDigest('ab'.repeat(32))?.length).toBe(32);
    expect(decodeDigest('ab'.repeat(31))).toBeUndefined();
    expect(decodeDigest(Buffer.alloc(31).toString('base64'))).toBeUndefined();
    expect(decodeDigest(Buffer.alloc(32).toString('base64'))?.length).toBe(32);
    expect(decodeDigest('not a digest')).toBeUndefined();
  });
});
