import type { InboundProvider } from '../../../config/inbound';
import type { ParseResult } from '../../../providers/inbound-types';
import { definitionOf } from '../../../providers/registry';
import { isPortable, parsePortable } from './portable';

export type { InboundEvent, InboundKind, InboundRefs, ParseResult } from '../../../providers/inbound-types';

/** The portable contract when the body has `external_ref`, else the provider's own shape (its folder's parser). Pure. */
export function parseDelivery(provider: InboundProvider, body: unknown): ParseResult {
  return isPortable(body) ? parsePortable(body) : definitionOf(provider).inbound!.parse(body);
}
