import { ConfigError } from '../../../src/config/errors';
import { INBOUND_PROVIDERS, InboundDirectory, parseInbound } from '../../../src/config/inbound';
import { loadConfig } from '../../../src/config/load';

const S = 'abcdefghijklmnop-secret';

function problems(raw: string): string {
  try {
    parseInbound(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe('PROBECTL_NOTIFY_INBOUND');
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('PROBECTL_NOTIFY_INBOUND', () => {
  test('unset or blank: no entries', () => {
    expect(parseInbound(undefined)).toEqual([]);
    expect(parseInbound('  ')).toEqual([]);
    expect(loadConfig({}).inbound.isEmpty).toBe(true);
  });

  test('id:tenant:provider:secret, split on the first three colons', () => {
    const entries = parseInbound(`sn-main:acme:servicenow:${S}:with:colons, jira-cloud:acme:JIRA:${S}\npd:beta:pagerduty:${S}-beta`);
    expect(entries.map((e) => [e.position, e.id, e.tenantId, e.provider])).toEqual([
      [1, 'sn-main', 'acme', 'servicenow'],
      [2, 'jira-cloud', 'acme', 'jira'],
      [3, 'pd', 'beta', 'pagerduty'],
    ]);
    expect(entries[0]!.secrets.map((s) => s.reveal())).toEqual([`${S}:with:colons`]);
    expect(JSON.stringify(entries)).not.toContain(S);
    const dir = new InboundDirectory(entries);
    expect(dir.find('pd')?.tenantId).toBe('beta');
    expect(dir.find('nope')).toBeUndefined();
  });

  test('chat providers are refused; every inbound provider is accepted', () => {
    expect(INBOUND_PROVIDERS).toEqual(['pagerduty', 'opsgenie', 'servicenow', 'jira']);
    // Entries after the first are named by position only in the separated form (see the spill tests below).
    expect(problems(`ok:acme:jira:${S},chat:acme:slack:${S}`)).toMatch(/entry #2: the provider is a chat provider and has no inbound/);
    expect(problems(`chat:acme:teams:${S}`)).toMatch(/entry #1 .*teams is a chat provider/);
    expect(problems(JSON.stringify([{ id: 'ok', tenant: 'acme', provider: 'jira', secret: S }, { id: 'chat', tenant: 'acme', provider: 'slack', secret: S }])))
      .toMatch(/entry #2 \(id "chat"\): slack is a chat provider/);
  });

  test('problems name the position and never echo the secret', () => {
    const cases: Array<[string, RegExp]> = [
      [`x:acme:nagios:${S}`, /entry #1 \(id "x"\): unknown provider "nagios"/],
      [`Bad_Id:acme:jira:${S}`, /entry #1: the id must match/],
      [`-x:acme:jira:${S}`, /entry #1: the id must match/],
      [`ok:acme:jira:${S},ok:beta:servicenow:${S}`, /entry #2: the id is already used by entry #1/],
      [JSON.stringify([{ id: 'ok', tenant: 'acme', provider: 'jira', secret: S }, { id: 'ok', tenant: 'beta', provider: 'servicenow', secret: S }]), /entry #2 \(id "ok"\): the id is already used by entry #1/],
      ['short:acme:jira:tooShort123', /entry #1 \(id "short"\): the secret must be at least 16 printable ASCII characters/],
      [`ok:acme:jira:${S},nocolons`, /entry #2: expected id:tenant:provider:secret/],
      [`ok:bad tenant!:jira:${S}`, /entry #1 \(id "ok"\): the tenant must match/],
    ];
    for (const [raw, re] of cases) {
      const msg = problems(raw);
      expect(msg).toMatch(re);
      expect(msg).not.toContain(S);
      expect(msg).not.toContain('tooShort123');
    }
  });

  // The tenant of a delivery is the entry's, chosen by the {id} in the path — which is no secret (it is in every
  // provider's webhook settings). One secret on entries of two tenants therefore lets whoever holds it for tenant
  // A (A's ServiceNow admins, A's captured token) resolve and acknowledge tenant B's incidents through B's entry.
  // API tokens refuse exactly this (the same token twice); inbound secrets took it silently.
  test('one secret on entries of two tenants is refused (it would authenticate either tenant\'s entry), in both forms', () => {
    const cases: Array<[string, RegExp]> = [
      [`sn-a:acme:servicenow:${S},sn-b:beta:servicenow:${S}`, /entry #2: .*another tenant/],
      [`sn-a:acme:servicenow:${S},pd-b:beta:pagerduty:${S}`, /entry #2: .*another tenant/],
      [JSON.stringify([{ id: 'sn-a', tenant: 'acme', provider: 'servicenow', secret: S }, { id: 'jira-b', tenant: 'beta', provider: 'jira', secret: S }]), /entry #2 \(id "jira-b"\): .*entry #1 of another tenant/],
      // while rotating, too: the new secret of one tenant's entry may not be another tenant's
      [`sn-a:acme:servicenow:${S},sn-a:acme:servicenow:${S}-new,sn-b:beta:servicenow:${S}-new`, /entry #3: .*another tenant/],
    ];
    for (const [raw, re] of cases) {
      const msg = problems(raw);
      expect(msg).toMatch(re);
      expect(msg).not.toContain(S);
    }
    // One tenant's entries may share a secret (one sender for several providers): no other tenant is reachable.
    expect(parseInbound(`sn:acme:servicenow:${S},pd:acme:pagerduty:${S}`).map((e) => e.id)).toEqual(['sn', 'pd']);
  });

  test('loadConfig wires it in and fails on a bad entry', () => {
    const config = loadConfig({ PROBECTL_NOTIFY_INBOUND: `sn:acme:servicenow:${S}` });
    expect(config.inbound.find('sn')?.provider).toBe('servicenow');
    expect(() => loadConfig({ PROBECTL_NOTIFY_INBOUND: `sn:acme:slack:${S}` })).toThrow(ConfigError);
  });
});
