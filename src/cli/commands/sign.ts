import { readFileSync } from 'node:fs';
import { parseInbound } from '../../config/inbound';
import { probectlSignature } from '../../security/signature';
import { str, required, type Command } from '../command';
import { EXIT, FailureError, UsageError } from '../io';

export { probectlSignature };

export const sign: Command = {
  path: ['sign'],
  summary: 'print the X-Probectl-Signature header for an inbound payload',
  help: `
Usage: probectl-notify sign --entry ID --file PAYLOAD [--timestamp now|SECONDS] [--value-only]
       probectl-notify sign --secret-file FILE --file PAYLOAD [...]

Computes the signature POST /ingest/itsm/{provider}/{id} checks: X-Probectl-Signature: sha256=<hex
HMAC-SHA256 of the raw body>, keyed with the secret of inbound entry ID (from PROBECTL_NOTIFY_INBOUND,
id:tenant:provider:secret) or with the content of --secret-file (trailing newline removed). The body must
be sent byte for byte as in PAYLOAD. The secret itself is never printed.

  --timestamp now|SECONDS   sign v1:<timestamp>:<body> and print X-Probectl-Timestamp too (replay window 300 s)
  --value-only              print only the signature value (sha256=…)

Example (curl reads the header lines from the command):
  probectl-notify sign --entry snow-acme --file close.json > headers.txt
  curl -XPOST http://127.0.0.1:8080/ingest/itsm/servicenow/snow-acme -H @headers.txt \\
       -H 'content-type: application/json' --data-binary @close.json
Exit: 0 printed, 1 no such entry or unreadable file, 2 usage, 78 PROBECTL_NOTIFY_INBOUND invalid.
`,
  options: { entry: { type: 'string' }, file: { type: 'string' }, 'secret-file': { type: 'string' }, timestamp: { type: 'string' }, 'value-only': { type: 'boolean' } },
  async run({ values, env, io }) {
    const file = required(values, 'file', sign);
    const entryId = str(values, 'entry');
    const secretFile = str(values, 'secret-file');
    if (!entryId === !secretFile) throw new UsageError('give exactly one of --entry and --secret-file\nsee: probectl-notify sign --help');
    let secret: string;
    if (entryId) {
      const entry = parseInbound(env.PROBECTL_NOTIFY_INBOUND).find((e) => e.id === entryId); // ConfigError → 78
      if (!entry) throw new FailureError(`PROBECTL_NOTIFY_INBOUND has no entry ${JSON.stringify(entryId.slice(0, 64))}`);
      secret = entry.secrets[0]!.reveal();
    } else {
      try {
        secret = readFileSync(secretFile!, 'utf8').replace(/\r?\n$/, '');
      } catch {
        throw new FailureError('cannot read --secret-file');
      }
      if (secret.length === 0) throw new FailureError('--secret-file is empty');
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      throw new FailureError(`cannot read ${file}`);
    }
    const rawTs = str(values, 'timestamp');
    let timestamp: string | undefined;
    if (rawTs !== undefined) {
      timestamp = rawTs === 'now' ? String(Math.floor(Date.now() / 1000)) : rawTs;
      if (!/^\d{1,12}$/.test(timestamp)) throw new UsageError('--timestamp takes now or unix seconds');
    }
    const signature = probectlSignature(secret, body, timestamp);
    if (values['value-only']) io.out(signature);
    else {
      io.out(`X-Probectl-Signature: ${signature}`);
      if (timestamp !== undefined) io.out(`X-Probectl-Timestamp: ${timestamp}`);
    }
    return EXIT.ok;
  },
};
