import { excerpt, scrub } from '../../src/http/scrub';

describe('scrub', () => {
  const url = 'https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX';
  test('removes plain, URL-encoded, base64 and path forms of every secret', () => {
    const token = 'alice@acme.com:api+token/with=chars';
    const text = [
      `token ${token}`,
      `encoded ${encodeURIComponent(token)}`,
      `basic ${Buffer.from(token).toString('base64')}`,
      `url ${url}`,
      `path /services/T000/B000/XXXXsecretXXXX`,
    ].join('\n');
    const out = scrub(text, [token, url]);
    expect(out).not.toContain('api+token');
    expect(out).not.toContain(encodeURIComponent(token));
    expect(out).not.toContain(Buffer.from(token).toString('base64').replace(/=+$/, ''));
    expect(out).not.toContain('XXXXsecretXXXX');
    expect(out.match(/<secret>/g)?.length).toBeGreaterThanOrEqual(5);
  });
  test('very short secrets are not scrubbed character by character', () => {
    expect(scrub('abc', ['a'])).toBe('abc');
  });
  test('excerpt is one line, bounded, scrubbed', () => {
    const e = excerpt(`${'x'.repeat(400)} k3y-k3y-k3y`, ['k3y-k3y-k3y'], 50);
    expect(e.length).toBeLessThanOrEqual(51);
    expect(excerpt('line1\nline2 k3y-k3y-k3y', ['k3y-k3y-k3y'])).toBe('line1 line2 <secret>');
  });
});
