/** The bounds of a connector's `rate_per_min` option (calls per minute per pacing key). Pure. */
export const MIN_RATE_PER_MIN = 1;
export const MAX_RATE_PER_MIN = 6_000;
