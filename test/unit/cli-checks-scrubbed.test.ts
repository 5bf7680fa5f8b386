/**
 * `connectors check` prints what each provider's live check says, and a check may quote the provider's answer (Jira's
 * issue type names): every detail is scrubbed of the connector's secrets before it is printed, in every encoding a
 * provider may echo it in. Pure: a fake HTTP client.
 */
import { checkConnector } from '../../src/cli/commands/connectors-check';
import { secretMaterial } from '../../src/http/scrub';
import { secretsOf } from '../../src/providers/types';
import { leakedWindows } from '../helpers/leaks';
import { connectorFrom, fakeHttp, json } from '../helpers/retry-table';

const TOKEN = 'alice@acme.com:ATATT3xJiraTokenPlanted0123';
const jira = connectorFrom(`acme|jira|https://acme.atlassian.net/rest/api/2/issue?project=OPS&issuetype=Incident|${TOKEN}`);
const ENCODINGS: Record<string, (s: string) => string> = {
  raw: (s) => s, base64: (s) => Buffer.from(s).toString('base64'), url: encodeURIComponent,
};

test.each(Object.keys(ENCODINGS))('Jira issue type names echoing the credential (%s) are scrubbed from the printed detail', async (enc) => {
  const secrets = secretsOf(jira).flatMap((s) => secretMaterial(s)).filter((s) => s.length >= 8);
  const planted = ENCODINGS[enc]!(TOKEN);
  const { http, requests } = fakeHttp((req) => (req.url.includes('createmeta') ? json(200, { values: [{ name: planted }, { name: `Task ${planted}` }] }) : json(200, {})));
  const result = await checkConnector(http, jira);
  expect(requests.some((r) => r.url.includes('createmeta'))).toBe(true); // the live check ran and quoted the answer
  expect(result.checks.map((c) => c.name)).toEqual(['reachable', 'jira createmeta']);
  expect(result.checks[1]!.detail).toContain('does not offer issue type Incident');
  expect(leakedWindows(secrets, JSON.stringify(result), 'printed')).toEqual([]);
});
