import { SECRET_PLACEHOLDER } from '../guide-text';

/** What an administrator configures on servicenow's side for one inbound entry (`inbound guide`). Pure text; never a secret. */
export function guide(url: string): string {
  return `ServiceNow → probectl-notify (timestamped signature: a captured delivery is refused after 300 s)

1. System Definition → Business Rules → New
   Name:      probectl-notify resolve sync
   Table:     Incident [incident]
   Advanced:  checked
   When:      async (after), Update
   Condition: State changes to Resolved (6) OR State changes to Closed (7)
              AND Correlation ID starts with probectl-
   (or as a condition script:)
     (current.state.changesTo(6) || current.state.changesTo(7)) && current.correlation_id.toString().indexOf('probectl-') == 0
   Note: async rules have no "previous"; keep the changesTo() checks in the condition builder.

2. Script (store the secret in a system property, e.g. x_probectl.inbound_secret, marked private):

(function executeRule(current, previous /*null when async*/) {
    try {
        var secret = gs.getProperty('x_probectl.inbound_secret'); // ${SECRET_PLACEHOLDER}
        var body = JSON.stringify({
            sys_id: current.getUniqueValue(),
            state: current.getValue('state'),
            correlation_id: current.getValue('correlation_id'),
            number: current.getValue('number'),
            actor: gs.getUserName()
        });
        // X-Probectl-Signature: sha256=<base64 HMAC-SHA256(secret, "v1:" + timestamp + ":" + body)>
        var ts = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
        var mac = new GlideCertificateEncryption().generateMac(GlideStringUtil.base64Encode(secret), 'HmacSHA256', 'v1:' + ts + ':' + body);
        var r = new sn_ws.RESTMessageV2();
        r.setEndpoint('${url}');
        r.setHttpMethod('post');
        r.setRequestHeader('Content-Type', 'application/json');
        r.setRequestHeader('X-Probectl-Timestamp', ts);
        r.setRequestHeader('X-Probectl-Signature', 'sha256=' + mac);
        r.setRequestBody(body);
        r.setHttpTimeout(10000);
        var res = r.execute();
        var status = res.getStatusCode();
        if (status >= 300) gs.warn('probectl-notify inbound answered ' + status);
    } catch (ex) {
        gs.error('probectl-notify inbound failed: ' + ex.message);
    }
})(current, previous);

The body sent must be exactly the string that was signed (setRequestBody(body)). The instance clock must be
within 300 s of probectl-notify's (NTP).
Answers: 202 accepted, 200 duplicate or ignored (both fine), 401 check the secret and the clock, 5xx retry later.
Without signing (weaker: a captured delivery can be replayed): setRequestHeader('X-Probectl-Token', secret)
instead of the two signature headers; not accepted by an entry with require_timestamp.`;
}

/** Whether servicenow's own sender can sign with a timestamp (require_timestamp). */
export const canTimestamp = true;
