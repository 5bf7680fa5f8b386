import type { HttpClient } from '../../http/client';
import { scrub } from '../../http/scrub';
import type { ConnectorConfig } from '../../config/connectors';
import type { LiveCheck } from '../definition';
import { secretsOf } from '../types';
import { authHeader, siteBase } from './build';
import type { JiraOptions } from './options';

/** Jira: the project exists for this credential and offers the configured issue type (create metadata). */
export async function jiraCreateMeta(http: HttpClient, c: ConnectorConfig<JiraOptions>): Promise<LiveCheck> {
  const project = c.settings.project;
  const wanted = c.settings.issueType;
  const url = `${siteBase(c.url.reveal())}/rest/api/2/issue/createmeta/${encodeURIComponent(project)}/issuetypes?maxResults=200`;
  try {
    const res = await http.send({ method: 'GET', url, headers: { authorization: authHeader(c.credential.reveal()), accept: 'application/json' } }, secretsOf(c));
    if (res.status === 401 || res.status === 403) return { name: 'jira createmeta', ok: false, detail: `the credential was refused (HTTP ${res.status})` };
    if (res.status === 404) return { name: 'jira createmeta', ok: false, detail: `project ${project} not found, or not visible to this credential (HTTP 404)` };
    if (res.status !== 200) return { name: 'jira createmeta', ok: false, detail: `unexpected HTTP ${res.status}` };
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return { name: 'jira createmeta', ok: false, detail: 'the answer is not JSON' };
    }
    const list = (body as { values?: unknown; issueTypes?: unknown }).values ?? (body as { issueTypes?: unknown }).issueTypes;
    const names = Array.isArray(list) ? list.map((t) => (t as { name?: unknown }).name).filter((n): n is string => typeof n === 'string') : [];
    return names.includes(wanted)
      ? { name: 'jira createmeta', ok: true, detail: `project ${project} offers issue type ${wanted}` }
      : { name: 'jira createmeta', ok: false, detail: `project ${project} does not offer issue type ${wanted} (it offers: ${names.slice(0, 10).join(', ') || 'none'})` };
  } catch (err) {
    return { name: 'jira createmeta', ok: false, detail: scrub((err as Error).message, secretsOf(c)) };
  }
}
