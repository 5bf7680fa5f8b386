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

/** `abcd…` style hint for operators: the last four characters of long secrets, nothing of short ones. */
export function maskHint(secret: Secret): string {
  const v = secret.reveal();
  return v.length >= 16 ? `${MASK}…${v.slice(-4)}` : MASK;
}
