import { isIP } from 'node:net';

/**
 * A listen address as the Temporal SDK's Prometheus exporter takes it: an IP literal and a port,
 * `127.0.0.1:9465` or `[::]:9465` (a host name is not resolved there, and port 0 would bind a port nobody
 * can find). Returns the problem, or undefined when the address is usable.
 */
export function socketAddressProblem(value: string): string | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const usage = 'must be an IP address and a port, such as 127.0.0.1:9465, 0.0.0.0:9465 or [::]:9465';
  if (!m) return usage;
  const host = m[1] ?? m[2]!;
  const family = isIP(host);
  if (family === 0 || (m[1] !== undefined && family !== 6) || (m[2] !== undefined && family !== 4)) return `${usage} (the host must be an IP literal, IPv6 in brackets)`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `${usage} (port 1-65535)`;
  return undefined;
}
