import { SECRET_PLACEHOLDER, inboundGuide, inboundUrl } from '../../../src/inbound-guide';

describe('inbound guide', () => {
  test('the URL is built from the public base URL, the provider and the entry id', () => {
    expect(inboundUrl('https://notify.example.com/', 'servicenow', 'sn-main')).toBe('https://notify.example.com/ingest/itsm/servicenow/sn-main');
  });

  test.each(['servicenow', 'jira', 'pagerduty', 'opsgenie'] as const)('%s: URL, credential placeholder, provider specifics', (provider) => {
    const text = inboundGuide({ id: 'entry-1', provider, baseUrl: 'https://notify.example.com' });
    expect(text).toContain(`https://notify.example.com/ingest/itsm/${provider}/entry-1`);
    expect(text).toContain(SECRET_PLACEHOLDER);
    expect(text).toContain('"external_ref"');
    const specifics: Record<string, string[]> = {
      servicenow: ['RESTMessageV2', "setRequestHeader('X-Probectl-Token'", 'correlation_id', 'changesTo(6)', 'async'],
      jira: ['X-Hub-Signature', 'labels = probectl', 'Send web request', '{{issue.key}}', 'Issue → updated'],
      pagerduty: ['webhook_subscriptions', 'incident.resolved', 'X-PagerDuty-Signature', 'X-Webhook-Id'],
      opsgenie: ['X-Probectl-Token', 'Acknowledge, Close', 'alias'],
    };
    for (const s of specifics[provider]!) expect(text).toContain(s);
  });
});

describe('inbound guide: the timestamped form by default', () => {
  test('ServiceNow signs v1:<timestamp>:<body>; the token is offered only as the weaker alternative', () => {
    const text = inboundGuide({ id: 'sn', provider: 'servicenow', baseUrl: 'https://n.example' });
    expect(text).toContain("generateMac(GlideStringUtil.base64Encode(secret), 'HmacSHA256', 'v1:' + ts + ':' + body)");
    expect(text.indexOf('X-Probectl-Timestamp')).toBeLessThan(text.indexOf('X-Probectl-Token'));
    expect(text).toContain('"require_timestamp": true');
  });

  test.each(['servicenow', 'jira', 'pagerduty', 'opsgenie'] as const)('%s: the portable example is timestamped; require_timestamp is explained', (provider) => {
    const text = inboundGuide({ id: 'e', provider, baseUrl: 'https://n.example' });
    expect(text).toContain("printf 'v1:%s:%s' \"$TS\" \"$BODY\"");
    expect(text).toContain('X-Probectl-Timestamp: $TS');
    const strict = inboundGuide({ id: 'e', provider, baseUrl: 'https://n.example', requireTimestamp: true });
    expect(strict).toContain('requires the timestamped signature');
  });
});
