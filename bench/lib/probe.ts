/**
 * Worker timing for the per-phase breakdown, preloaded into both workers with `--require` (the same node
 * arguments for ours and the floor's). Idle until the process gets SIGWINCH; from then until the next SIGWINCH
 * it stamps every outbound undici request through Node's diagnostics channels — created (the connector called
 * the client), headers written to the socket ("request sent"), answer headers back — and on the second
 * SIGWINCH writes them as JSON to `$BENCH_PROBE_DIR/probe-<pid>-<n>.json` (n = 1, 2, …). Nothing else in the
 * worker changes. SIGWINCH because neither the service nor the SDK handles it and its default is to ignore it
 * (SIGUSR2's default is to end the process).
 */
import { subscribe } from 'node:diagnostics_channel';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProbeRecord {
  /** ms since the epoch. */
  created: number;
  sent?: number;
  answered?: number;
  status?: number;
  origin: string;
  method: string;
  path: string;
  /** The first 2,000 characters of the body (the incident id is in it for most creates). */
  body: string;
}

const MAX_RECORDS = 200_000;
let recording = false;
let records: ProbeRecord[] = [];
let dumps = 0;
const byRequest = new WeakMap<object, ProbeRecord>();

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  body?: unknown;
}

const bodyText = (b: unknown): string => (typeof b === 'string' ? b.slice(0, 2000) : Buffer.isBuffer(b) ? b.subarray(0, 2000).toString('utf8') : '');

subscribe('undici:request:create', (m) => {
  if (!recording || records.length >= MAX_RECORDS) return;
  const r = (m as { request: UndiciRequest }).request;
  const rec: ProbeRecord = { created: Date.now(), origin: String(r.origin ?? ''), method: r.method ?? '', path: r.path ?? '', body: bodyText(r.body) };
  records.push(rec);
  byRequest.set(r, rec);
});
subscribe('undici:client:sendHeaders', (m) => {
  const rec = byRequest.get((m as { request: object }).request);
  if (rec && rec.sent === undefined) rec.sent = Date.now();
});
subscribe('undici:request:headers', (m) => {
  const msg = m as { request: object; response: { statusCode: number } };
  const rec = byRequest.get(msg.request);
  if (rec && rec.answered === undefined) {
    rec.answered = Date.now();
    rec.status = msg.response.statusCode;
  }
});

process.on('SIGWINCH', () => {
  if (!recording) {
    records = [];
    recording = true;
    return;
  }
  recording = false;
  dumps += 1;
  const dir = process.env.BENCH_PROBE_DIR;
  if (!dir) return;
  const file = join(dir, `probe-${process.pid}-${dumps}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(records));
  renameSync(`${file}.tmp`, file);
  records = [];
});
