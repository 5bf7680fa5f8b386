/**
 * The OpenAPI document as the server generates it, without a server: an app built with inert dependencies
 * (nothing is called while the document is generated). `npm run openapi` writes it to docs/openapi.json;
 * a test checks that the committed file equals what a running app serves at GET /openapi.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncidentClient } from '../client';
import type { MirrorStore } from '../db/mirror-store';
import { createLogger } from '../observability/logger';
import type { NotifyMetrics } from '../observability/metrics';
import { buildApp } from './app';
import { TokenAuthenticator } from './auth';

/** The document's text as committed: two-space JSON and a final newline. */
export function documentText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function generateOpenApiDocument(): Promise<unknown> {
  const inert = {} as unknown;
  const app = buildApp({
    log: createLogger('silent'),
    auth: new TokenAuthenticator([]),
    incidents: inert as IncidentClient,
    mirror: inert as MirrorStore,
    checks: {},
    isAccepting: () => true,
    // The service always serves /metrics on the API port.
    metrics: { contentType: () => 'text/plain', text: async () => '' } as unknown as NotifyMetrics,
  });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  const out = process.argv[2] ?? join(__dirname, '..', '..', 'docs', 'openapi.json');
  generateOpenApiDocument().then(
    (doc) => {
      writeFileSync(out, documentText(doc));
      process.stdout.write(`wrote ${out}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`openapi: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
