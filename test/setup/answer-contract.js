/**
 * The check at the end of every test run: each answer an app built by buildApp gave during the run (recorded
 * by src/api/answer-log.ts into PROBECTL_NOTIFY_ANSWER_LOG as `{"method","route","status"}` lines) must have a
 * status the OpenAPI document (docs/openapi.json) lists for its route. The summary reporter runs it after the
 * last test file, whatever order the files ran in, and counts each offending (method, route, status) as a
 * failure. Plain JavaScript: the reporter loads it outside ts-jest.
 */
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const DOCUMENT = join(__dirname, '..', '..', 'docs', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** `METHOD /fastify/:route` → documented statuses. OpenAPI's `{id}` is Fastify's `:id`. */
function documentedStatuses(doc) {
  const out = new Map();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const route = path.replace(/\{([^}]+)\}/g, ':$1');
    for (const m of METHODS) {
      if (item[m]) out.set(`${m.toUpperCase()} ${route}`, new Set(Object.keys(item[m].responses ?? {})));
    }
  }
  return out;
}

/** The recorded answers, distinct; a line cut short by a killed process is skipped. */
function readAnswers(file) {
  if (!file || !existsSync(file)) return [];
  const seen = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let a;
    try {
      a = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof a.method === 'string' && typeof a.route === 'string' && typeof a.status === 'number') seen.set(`${a.method} ${a.route} ${a.status}`, a);
  }
  return [...seen.values()];
}

/**
 * Offending answers as `METHOD route → status (why)`. A HEAD answer of a GET route (Fastify adds those) is held
 * to the GET operation's statuses.
 */
function offendingAnswers(answers, doc) {
  const documented = documentedStatuses(doc);
  const out = [];
  for (const a of answers) {
    const key = `${a.method} ${a.route}`;
    const statuses = documented.get(key) ?? (a.method === 'HEAD' ? documented.get(`GET ${a.route}`) : undefined);
    if (!statuses) out.push(`${key} → ${a.status} (the route is not in the document)`);
    else if (!statuses.has(String(a.status))) out.push(`${key} → ${a.status} (documented: ${[...statuses].sort().join(', ')})`);
  }
  return out.sort();
}

/** The run's check: the answers of PROBECTL_NOTIFY_ANSWER_LOG against docs/openapi.json. */
function checkRun(file = process.env.PROBECTL_NOTIFY_ANSWER_LOG, documentFile = DOCUMENT) {
  const answers = readAnswers(file);
  if (answers.length === 0) return { answers: 0, offending: [] };
  const doc = JSON.parse(readFileSync(documentFile, 'utf8'));
  return { answers: answers.length, offending: offendingAnswers(answers, doc) };
}

module.exports = { documentedStatuses, readAnswers, offendingAnswers, checkRun };
