/**
 * Found by review, fixed: a connector credential that contains `|`, written in the separated form of
 * PROBECTL_NOTIFY_CONNECTORS, was accepted silently, and the part after the `|` became the connector's name —
 * hence its id. Now a named ServiceNow or Jira connector (free-form passwords and tokens) must use the JSON form;
 * the other providers' credentials are keys and tokens of a fixed alphabet (routing keys, API keys, bot tokens)
 * with no `|` in them.
 *
 *   acme|servicenow|https://acme.service-now.com|svc-notify:Pa55|word-tail-xk42
 *     → credential "svc-notify:Pa55", name and id "word-tail-xk42"
 *
 * A connector id is no secret by design: it is in workflow inputs and history, the mirror (links, timeline),
 * every /v1 state and timeline answer to the tenant, the callback to probectl, log lines and the Temporal UI.
 * So the tail of the password (any lowercase run matching [a-z0-9][a-z0-9_-]{0,63}) is published everywhere, and
 * the connector fails every call with a truncated credential. The comma case is handled (nothing of a later
 * entry is quoted); the pipe inside one entry is not, and the separated form cannot tell a name from the tail of
 * a credential. The JSON form (documented for credentials with `|`) is unaffected.
 */
import { toRef, parseConnectors } from '../../src/config/connectors';
import { ConfigError } from '../../src/config/errors';

const windows = (text: string, n: number) => Array.from({ length: Math.max(text.length - n + 1, 0) }, (_, i) => text.slice(i, i + n));

describe('a connector credential containing | in the separated form', () => {
  const cases: Array<[string, string, string]> = [
    ['servicenow password', 'acme|servicenow|https://acme.service-now.com|svc-notify:Pa55|word-tail-xk42', 'svc-notify:Pa55|word-tail-xk42'],
    ['jira data center password', 'acme|jira|https://jira.acme.example/rest/api/2/issue?project=OPS|svc-jira:Winter|2025-rotates-q3', 'svc-jira:Winter|2025-rotates-q3'],
    // a tenant with two ServiceNow connectors needs names, so "a 5th field only where names are needed" is no fix
    ['two connectors, both passwords with |', 'acme|servicenow|https://a.service-now.com|svc-a:Pa55|word-tail-aa11,acme|servicenow|https://b.service-now.com|svc-b:Pa55|word-tail-bb22', 'svc-a:Pa55|word-tail-aa11'],
  ];

  test.each(cases)('%s: refused, or nothing of the credential becomes an identifier', (_name, raw, credential) => {
    let connectors;
    try {
      connectors = parseConnectors(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      for (const w of windows(credential, 8)) expect((err as Error).message).not.toContain(w);
      return;
    }
    // Accepted: what the workflow, the mirror and /v1 carry about the connector must hold no 8 characters of it.
    const published = JSON.stringify(connectors.map((c) => ({ ref: toRef(c), name: c.name, options: c.options })));
    const leaked = windows(credential, 8).filter((w) => published.includes(w));
    expect({ published, leaked }).toEqual({ published, leaked: [] });
  });
});
