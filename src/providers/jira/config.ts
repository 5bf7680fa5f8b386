import { configSpec, requireCredential, noWhitespace } from '../config-checks';
import { isIssuePath } from './build';
import { schema, type JiraOptions } from './options';

/** The options of a jira entry (its URL's query keys, typed by ./options.ts) and what else makes an entry wrong. Pure. */
export const config = configSpec<JiraOptions>({
  optionKeys: ['project', 'issuetype', 'resolve_transition', 'components', 'priority', 'priority_map', 'fields'],
  check: (parts) => [
    ...requireCredential(parts, 'email:api-token or a personal access token'),
    ...noWhitespace(parts),
    ...(isIssuePath(parts.url.pathname) ? [] : ['the URL must be the create-issue endpoint (https://<site>/rest/api/2/issue)']),
  ],
  schema,
});
