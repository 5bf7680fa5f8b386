/**
 * With PROBECTL_NOTIFY_ANSWER_LOG naming a file, every answer's method, route pattern and status is appended
 * to it as one JSON line (`{"method":"POST","route":"/v1/incidents/:id/resolve","status":202}`), each distinct
 * triple once per process. Nothing else: no path values, no headers, no body. The test run sets it and checks,
 * after the last test, that every answer's status is one the OpenAPI document lists for its route
 * (test/setup/answer-contract.js). Requests that matched no route are not recorded.
 */
import { appendFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

export const ANSWER_LOG_SETTING = 'PROBECTL_NOTIFY_ANSWER_LOG';

const seen = new Set<string>();

export function recordAnswers(app: FastifyInstance, file: string | undefined = process.env[ANSWER_LOG_SETTING]): void {
  if (!file) return;
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url;
    if (route === undefined) return;
    const line = JSON.stringify({ method: req.method, route, status: reply.statusCode });
    if (seen.has(line)) return;
    seen.add(line);
    try {
      appendFileSync(file, `${line}\n`);
    } catch {
      seen.delete(line); // a later answer tries again; an answer is never failed by its record
    }
  });
}
