import type { InboundProvider } from '../../../config/inbound';
import { parseJira } from './jira';
import { parseOpsgenie } from './opsgenie';
import { parsePagerDuty } from './pagerduty';
import { isPortable, parsePortable } from './portable';
import { parseServiceNow } from './servicenow';
import type { ParseResult, Parser } from './types';

export type { InboundEvent, InboundKind, InboundRefs, ParseResult } from './types';

const NATIVE: Record<InboundProvider, Parser> = {
  pagerduty: parsePagerDuty,
  opsgenie: parseOpsgenie,
  servicenow: parseServiceNow,
  jira: parseJira,
};

/** The portable contract when the body has `external_ref`, else the provider's own shape. Pure. */
export function parseDelivery(provider: InboundProvider, body: unknown): ParseResult {
  return isPortable(body) ? parsePortable(body) : NATIVE[provider](body);
}
