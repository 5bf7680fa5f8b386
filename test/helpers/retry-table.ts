/**
 * Shared kit for connector unit tests: a scripted HttpClient, a CallContext without Temporal, the
 * outcome of a connector call (ok / retried / permanent), every status 100–599, and request fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { HttpClient } from '../../src/http/client';
import type { HttpRequest, HttpResponse } from '../../src/http/types';
import type { CallContext } from '../../src/providers/types';
import { parseConnectors, type ConnectorConfig } from '../../src/config/connectors';
import type { Incident } from '../../src/shared/contract';

export type Outcome = 'ok' | 'retried' | 'permanent';

export const ALL_STATUSES: number[] = Array.from({ length: 500 }, (_, i) => 100 + i);

/** The generic rule of classify.ts: 2xx ok; 408, 429 and 5xx retried; everything else permanent. */
export function genericOutcome(status: number, extraRetried: readonly number[] = []): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500 || extraRetried.includes(status)) return 'retried';
  return 'permanent';
}

export interface FakeHttp {
  http: HttpClient;
  requests: HttpRequest[];
}

/** An HttpClient whose answers come from `route`; every request is recorded. */
export function fakeHttp(route: (req: HttpRequest, n: number) => HttpResponse): FakeHttp {
  const requests: HttpRequest[] = [];
  const http = {
    async send(req: HttpRequest) {
      requests.push(req);
      return route(req, requests.length);
    },
    async close() {},
  } as unknown as HttpClient;
  return { http, requests };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status, headers: { 'content-type': 'application/json', ...headers }, text: body === undefined ? '' : JSON.stringify(body),
});
export const text = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({
  status, headers: { 'content-type': 'text/plain', ...headers }, text: body,
});

/**
 * One connector from a configuration entry, parsed the way the worker parses it. Its `settings` are whatever the
 * entry's provider's options schema made (typed `any` here: a test hands the entry to that provider's connector).
 */
export function connectorFrom(entry: string): ConnectorConfig<any> {
  const [c] = parseConnectors(entry);
  if (!c) throw new Error('no connector parsed');
  return c;
}

export function callContext(connector: ConnectorConfig<any>, http: HttpClient, attempt = 1, sleeps: number[] = []): CallContext<any> {
  return { connector, http, attempt, sleep: async (ms) => void sleeps.push(ms) };
}

/** Run a connector call and say how it ended; the failure is returned for message checks. */
export async function outcomeOf(run: () => Promise<unknown>): Promise<{ outcome: Outcome; failure?: ApplicationFailure }> {
  try {
    await run();
    return { outcome: 'ok' };
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    return { outcome: err.nonRetryable ? 'permanent' : 'retried', failure: err };
  }
}

/** The incident every golden fixture is built from. */
export const GOLDEN_INCIDENT: Incident = {
  id: 'INC-2041',
  tenantId: 'acme',
  title: 'Packet loss on edge-router-3 uplink',
  severity: 'critical',
  summary: '14% loss towards AS64500 for 5 minutes',
  source: 'probectl',
  url: 'https://probectl.example.com/incidents/INC-2041',
  openedAt: '2026-03-01T12:00:00.000Z',
  labels: { site: 'fra1' },
};

export interface RequestFixture {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** What a fixture compares: method, path with query, headers, and the body parsed as JSON. */
export function asFixture(req: HttpRequest): RequestFixture {
  const u = new URL(req.url);
  return {
    method: req.method,
    path: `${u.pathname}${u.search}`,
    headers: req.headers,
    ...(req.body !== undefined ? { body: JSON.parse(req.body) as unknown } : {}),
  };
}

export function loadFixture(provider: string, name: string): RequestFixture {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', provider, `${name}.json`), 'utf8')) as RequestFixture;
}
