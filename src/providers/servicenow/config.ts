import { configSpec } from '../config-checks';
import { isTablePath } from './build';
import { schema, type ServiceNowOptions } from './options';

/** The options of a servicenow entry (its URL's query keys, typed by ./options.ts) and what else makes an entry wrong. Pure. */
export const config = configSpec<ServiceNowOptions>({
  optionKeys: ['close_code', 'assignment_group', 'caller_id', 'category', 'urgency_map', 'impact_map'],
  check: (parts) => {
    const i = parts.credential.indexOf(':');
    const problems = i > 0 && i < parts.credential.length - 1 ? [] : ['the credential must be user:password (basic auth)'];
    if (!isTablePath(parts.url.pathname)) problems.push('the URL must be the instance (https://<instance>.service-now.com) or its …/api/now/table/incident endpoint');
    return problems;
  },
  schema,
});
