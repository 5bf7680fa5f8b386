/**
 * docs/openapi.json: it is exactly what the server generates (and serves at GET /openapi.json), it passes the
 * OpenAPI linter (Redocly CLI, redocly.yaml) without an error or a warning, its examples carry no
 * real-looking secret, and the end-of-run answer check (test/setup/answer-contract.js) reports what it must.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildApp } from '../../src/api/app';
import { TokenAuthenticator } from '../../src/api/auth';
import { documentText, generateOpenApiDocument } from '../../src/api/openapi-document';
import type { IncidentClient } from '../../src/client';
import type { MirrorStore } from '../../src/db/mirror-store';
import { createLogger } from '../../src/observability/logger';
import { NotifyMetrics } from '../../src/observability/metrics';
import { offendingAnswers, readAnswers } from '../setup/answer-contract';

const ROOT = join(__dirname, '..', '..');
const COMMITTED = join(ROOT, 'docs', 'openapi.json');

describe('docs/openapi.json', () => {
  test('equals what the server generates and serves at GET /openapi.json (regenerate with `npm run openapi`)', async () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    expect(committed).toBe(documentText(await generateOpenApiDocument()));
    // A served document, from an app wired as the service wires it (real metrics registry, no auth needed).
    const app = buildApp({
      log: createLogger('silent'),
      auth: new TokenAuthenticator([]),
      incidents: {} as IncidentClient,
      mirror: {} as MirrorStore,
      checks: {},
      isAccepting: () => true,
      metrics: new NotifyMetrics({ defaultMetrics: true }),
    });
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(documentText(res.json())).toBe(committed);
    const doc = JSON.parse(committed) as { openapi: string; info: { version: string } };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  test('passes the linter (Redocly CLI, redocly.yaml): no error, no warning', () => {
    const cli = require.resolve('@redocly/cli/bin/cli.js');
    const r = spawnSync(process.execPath, [cli, 'lint', COMMITTED, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const start = r.stdout.indexOf('{');
    expect({ status: r.status, json: start >= 0 }).toEqual({ status: 0, json: true });
    const report = JSON.parse(r.stdout.slice(start)) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string }> };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  test('the linter fails a broken document (the lint step is not vacuous)', () => {
    const doc = JSON.parse(readFileSync(COMMITTED, 'utf8')) as { paths: Record<string, Record<string, { responses?: unknown }>> };
    delete doc.paths['/v1/incidents']!.post!.responses;
    const broken = join(ROOT, 'test-artifacts', `openapi-broken-${process.pid}.json`);
    mkdirSync(dirname(broken), { recursive: true });
    writeFileSync(broken, JSON.stringify(doc));
    const r = spawnSync(process.execPath, [require.resolve('@redocly/cli/bin/cli.js'), 'lint', broken, '--config', join(ROOT, 'redocly.yaml')], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect(r.status).not.toBe(0);
  });

  test('examples hold placeholders, never a real-looking secret', () => {
    const doc = JSON.parse(readFileSync(COMMITTED, 'utf8')) as unknown;
    const values: string[] = [];
    const walk = (v: unknown, inExample: boolean) => {
      if (typeof v === 'string') {
        if (inExample) values.push(v);
      } else if (Array.isArray(v)) {
        for (const x of v) walk(x, inExample);
      } else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) walk(x, inExample || k === 'example' || k === 'examples');
      }
    };
    walk(doc, false);
    expect(values.length).toBeGreaterThan(0);
    // A token-like run: 16+ characters of a token alphabet with a digit in it, not inside a <placeholder>.
    const secretLike = values.filter((s) => s.replace(/<[^>]*>/g, '').split(/[\s:,/"']+/).some((w) => w.length >= 16 && /\d/.test(w) && /^[A-Za-z0-9+_=.-]+$/.test(w)));
    expect(secretLike).toEqual([]);
    // and none of the test suite's own secrets or tokens
    expect(JSON.stringify(doc)).not.toMatch(/0123456789|secret-|tcld-/);
  });
});

describe('the end-of-run answer check (test/setup/answer-contract.js)', () => {
  const doc = JSON.parse(readFileSync(COMMITTED, 'utf8')) as unknown;

  test('documented answers pass; an unlisted status or an undocumented route is reported by (method, route, status)', () => {
    expect(offendingAnswers([
      { method: 'POST', route: '/v1/incidents', status: 201 },
      { method: 'HEAD', route: '/v1/incidents/:id', status: 401 },
      { method: 'POST', route: '/ingest/itsm/:provider/:id', status: 413 },
    ], doc)).toEqual([]);
    expect(offendingAnswers([
      { method: 'POST', route: '/v1/incidents', status: 500 },
      { method: 'GET', route: '/v1/incidents/:id', status: 409 },
      { method: 'GET', route: '/v2/nothing', status: 200 },
    ], doc)).toEqual([
      'GET /v1/incidents/:id → 409 (documented: 200, 400, 401, 404, 503)',
      'GET /v2/nothing → 200 (the route is not in the document)',
      'POST /v1/incidents → 500 (documented: 200, 201, 400, 401, 409, 413, 415, 503)',
    ]);
  });

  test('the recorded file: distinct answers, a line cut short is skipped', () => {
    const file = join(ROOT, 'test-artifacts', `answers-check-${process.pid}.jsonl`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '{"method":"GET","route":"/healthz","status":200}\n{"method":"GET","route":"/healthz","status":200}\n{"method":"GET","rou');
    expect(readAnswers(file)).toEqual([{ method: 'GET', route: '/healthz', status: 200 }]);
  });

  test('this run records answers: an app built now writes to PROBECTL_NOTIFY_ANSWER_LOG', async () => {
    const file = process.env.PROBECTL_NOTIFY_ANSWER_LOG;
    expect(file).toBeTruthy();
    const app = buildApp({
      log: createLogger('silent'), auth: new TokenAuthenticator([]), incidents: {} as IncidentClient, mirror: {} as MirrorStore, checks: {}, isAccepting: () => true,
    });
    expect((await app.inject({ method: 'GET', url: '/v1/incidents/x' })).statusCode).toBe(401);
    await app.close();
    expect(readAnswers(file)).toContainEqual({ method: 'GET', route: '/v1/incidents/:id', status: 401 });
  });
});
