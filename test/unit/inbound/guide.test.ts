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
