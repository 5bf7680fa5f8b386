import { inspect } from 'node:util';

const MASK = '<secret>';

/**
 * A value that must never be printed: credentials, webhook URLs, inbound secrets and tokens. Every way of
 * turning it into text (String(), JSON, util.inspect, template literals) yields `<secret>`; only
 * `reveal()` gives the value, and only the HTTP client and the signature checks call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/**
 * `<secret>…abcd` style hint for operators, to tell long tokens apart: the last four characters of a secret of 16
 * or more characters, nothing of a shorter one. Of a `user:password` credential (Jira `email:token`, ServiceNow
 * basic: a colon, and no URL) nothing of the password, whatever its length — its last four characters would be
 * the credential's, the whole password when it has four or fewer —, and of the user part the same hint as of a
 * token: `<secret>:<secret>`, or `<secret>…abcd:<secret>` for a user of 16 or more characters.
 */
export function maskHint(secret: Secret): string {
  const v = secret.reveal();
  const hint = (s: string) => (s.length >= 16 ? `${MASK}…${s.slice(-4)}` : MASK);
  const colon = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? -1 : v.indexOf(':');
  return colon >= 0 ? `${hint(v.slice(0, colon))}:${MASK}` : hint(v);
}
