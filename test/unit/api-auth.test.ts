import { TokenAuthenticator } from '../../src/api/auth';
import { parseApiTokens } from '../../src/config/api-tokens';
import { ConfigError } from '../../src/config/errors';

describe('API tokens', () => {
  test('parse tenant:token entries; two tokens per tenant allowed (rotation)', () => {
    const tokens = parseApiTokens('acme:aaaaaaaaaaaaaaaa1,acme:bbbbbbbbbbbbbbbb2,globex:cccccccccccccccc3');
    const auth = new TokenAuthenticator(tokens);
    expect(auth.tenantFor('Bearer aaaaaaaaaaaaaaaa1')).toBe('acme');
    expect(auth.tenantFor('bearer bbbbbbbbbbbbbbbb2')).toBe('acme');
    expect(auth.tenantFor('Bearer cccccccccccccccc3')).toBe('globex');
    expect(auth.tenantFor('Bearer cccccccccccccccc')).toBeUndefined();
    expect(auth.tenantFor('Basic cccccccccccccccc3')).toBeUndefined();
    expect(auth.tenantFor(undefined)).toBeUndefined();
  });
  test('errors name the entry and never echo the token', () => {
    const secret = 'short-tok';
    try {
      parseApiTokens(`acme:${secret},bad tenant:xxxxxxxxxxxxxxxxxxxxx`);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('PROBECTL_NOTIFY_API_TOKENS');
      expect(msg).toContain('entry #1');
      expect(msg).toContain('entry #2');
      expect(msg).not.toContain(secret);
      expect(msg).not.toContain('xxxxxxxxxxxxxxxxxxxxx');
    }
  });
});
