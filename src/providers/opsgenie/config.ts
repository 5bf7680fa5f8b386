import { configSpec, requireCredential, noWhitespace } from '../config-checks';
import { isAlertsPath } from './build';
import { schema, type OpsgenieOptions } from './options';

/** The options of a opsgenie entry (its URL's query keys, typed by ./options.ts) and what else makes an entry wrong. Pure. */
export const config = configSpec<OpsgenieOptions>({
  optionKeys: ['priority_map', 'responders', 'tags'],
  check: (parts) => [
    ...requireCredential(parts, 'GenieKey'),
    ...noWhitespace(parts),
    ...(isAlertsPath(parts.url.pathname)
      ? []
      : ['the URL must be the alerts endpoint (…/v2/alerts on api.opsgenie.com, api.eu.opsgenie.com or api.atlassian.com/jsm/ops/integration)']),
  ],
  schema,
});
