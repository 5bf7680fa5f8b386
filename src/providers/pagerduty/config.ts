import { configSpec, requireCredential, noWhitespace, path } from '../config-checks';
import { noOptions, type NoOptions } from '../option-schemas';

/** The options of a pagerduty entry (none of its own: only the shared ones) and what makes an entry wrong. Pure. */
export const config = configSpec<NoOptions>({
  optionKeys: [],
  check: (parts) => [
    ...requireCredential(parts, 'routing key'),
    ...noWhitespace(parts),
    ...(path(parts).endsWith('/v2/enqueue') ? [] : ['the URL must be the Events API v2 endpoint (…/v2/enqueue, US or EU host)']),
  ],
  schema: noOptions,
});
