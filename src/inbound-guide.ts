/**
 * What an administrator must configure on the provider's side for one PROBECTL_NOTIFY_INBOUND entry
 * (docs/inbound.md). Pure: it returns text and never sees a secret; the secret is always written as the
 * placeholder `<your secret>`. `probectl-notify inbound guide` prints it; each provider's own text lives in
 * src/providers/<name>/guide.ts.
 */
import type { InboundProvider } from './config/inbound';
import { SECRET_PLACEHOLDER } from './providers/guide-text';
import { definitionOf } from './providers/registry';

export { SECRET_PLACEHOLDER };

export interface GuideInput {
  /** The entry id (`{id}` in the URL). */
  id: string;
  provider: InboundProvider;
  /** Public base URL of the API as the provider reaches it, e.g. https://notify.example.com */
  baseUrl: string;
  /** The entry accepts only the timestamped signature (`require_timestamp`). */
  requireTimestamp?: boolean;
}

export function inboundUrl(baseUrl: string, provider: InboundProvider, id: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/ingest/itsm/${encodeURIComponent(provider)}/${encodeURIComponent(id)}`;
}

/** The instructions for one entry, as plain text. */
export function inboundGuide(input: GuideInput): string {
  const url = inboundUrl(input.baseUrl, input.provider, input.id);
  // The provider's own text and whether its sender can timestamp (docs/inbound.md, "What a captured delivery is
  // worth") live in its folder: src/providers/<name>/guide.ts.
  const own = definitionOf(input.provider).inbound?.guide;
  const body = own ? own.text(url) : `Send the portable contract to ${url} (below).`;
  const canTimestamp = own?.canTimestamp ?? true;
  const portable = `Any ${input.provider} automation or script may also send the portable contract, signed with a timestamp
(replays are refused after 300 s):
  BODY='{"external_ref":"probectl-<incident-id>","status":"resolved"}'
  TS=$(date +%s)
  SIG=$(printf 'v1:%s:%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac '${SECRET_PLACEHOLDER}' -hex | sed 's/^.* //')
  curl -sS -X POST '${url}' -H 'Content-Type: application/json' \\
    -H "X-Probectl-Timestamp: $TS" -H "X-Probectl-Signature: sha256=$SIG" --data "$BODY"
  ("status" may also be "acknowledged"; \`probectl-notify sign --entry ${input.id} --timestamp now --file body.json\` prints the headers.)`;
  const strict = input.requireTimestamp
    ? canTimestamp
      ? `This entry requires the timestamped signature (require_timestamp): tokens and body-only signatures are refused.`
      : `This entry requires the timestamped signature (require_timestamp), which ${input.provider}'s own webhooks cannot send:
only a script or automation that signs as shown below is accepted. Remove require_timestamp to use the setup above.`
    : canTimestamp
      ? `Set "require_timestamp": true on this entry (JSON form of PROBECTL_NOTIFY_INBOUND) once the sender signs with a timestamp.`
      : `${input.provider}'s own webhooks cannot sign with a timestamp, so a captured delivery can be replayed; see docs/inbound.md for what that allows.`;
  return `${body}\n\n${strict}\n\n${portable}\n`;
}
