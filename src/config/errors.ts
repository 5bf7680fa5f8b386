/** A configuration problem found at start-up. The message names the setting and never echoes a secret. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly problems: string[],
  ) {
    super(`${setting}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}
