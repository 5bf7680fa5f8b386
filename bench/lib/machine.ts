import { cpus, loadavg, totalmem, release } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';

export interface Machine {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  node: string;
  kernel: string;
  loadAvgAtStart: number[];
  loadAvgAtEnd?: number[];
}

export const load = (): number[] => loadavg().map((v) => Math.round(v * 100) / 100);

export function machine(): Machine {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAvgAtStart: load(),
  };
}

/** Resident set size (and its peak) of a process, from /proc; undefined when the process is gone. */
export function rssOf(pid: number | undefined): { rssMB: number; peakMB: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMB: Math.round(kb('VmRSS') / 102.4) / 10, peakMB: Math.round(kb('VmHWM') / 102.4) / 10 };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat; undefined when it is gone. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  const st = pid ? statOf(pid) : undefined;
  if (!st) return undefined;
  const ticks = Number(st.f[11]) + Number(st.f[12]); // utime, stime (fields 14 and 15)
  return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
}

/**
 * A process's stat fields from the state on (field 3 first: f[1] is the ppid; the name, which may hold spaces, ends at
 * the last ')'), and its name; undefined when gone.
 */
function statOf(pid: string | number): { name: string; f: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), f: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) the Postgres server has used so far, ms: its postmaster, every live child of it (backends,
 * background workers) and what its exited children used (the postmaster's cutime + cstime), so a backend that exits
 * between two readings is still counted once. The scan is repeated when a child was reaped during it (the
 * postmaster's cutime moved), which would count it twice or not at all. Undefined without /proc, or unless exactly
 * one postmaster runs on the machine (a `postgres` — or `postmaster` — process whose parent is not one): a second server's work would be
 * charged too.
 */
export function postgresCpuMs(): number | undefined {
  // Older servers started through the `postmaster` link carry that name in every process (they fork, never exec).
  const isPg = (name: string | undefined) => name === 'postgres' || name === 'postmaster';
  const ticks = (f: string[], from: number) => Number(f[from]) + Number(f[from + 1]);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return undefined;
    }
    const named = pids.map((pid) => ({ pid, st: statOf(pid) })).filter((x) => isPg(x.st?.name));
    const masters = named.filter(({ st }) => !isPg(statOf(st!.f[1]!)?.name));
    if (masters.length !== 1) return undefined;
    const master = masters[0]!.pid;
    const before = statOf(master);
    if (!before) return undefined;
    let total = ticks(before.f, 11); // utime, stime (fields 14, 15)
    for (const { pid } of named) {
      const st = pid === master ? undefined : statOf(pid);
      if (st && isPg(st.name) && st.f[1] === master) total += ticks(st.f, 11);
    }
    const after = statOf(master);
    if (!after) return undefined;
    if (ticks(after.f, 13) !== ticks(before.f, 13)) continue; // a child reaped during the scan: read again
    total += ticks(after.f, 13); // cutime, cstime (fields 16, 17)
    return Number.isFinite(total) ? total * 10 : undefined; // USER_HZ is 100 on Linux
  }
  return undefined;
}

/**
 * A process's resident memory split as /proc sees it: anonymous (heaps, malloc, stacks) and file-backed
 * (code of node, the SDK's native core and other mapped files), and the file mappings holding the most.
 */
export interface RssBreakdown {
  anonMB: number;
  fileMB: number;
  shmemMB: number;
  /** The file-backed mappings with the most resident memory, by file. */
  topFiles: Array<{ file: string; rssMB: number }>;
  /** The anonymous mappings of 16 MB or more resident (a V8 heap reservation, a malloc arena). */
  largeAnon: Array<{ rssMB: number; sizeMB: number }>;
}

export function rssBreakdown(pid: number | undefined): RssBreakdown | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const byFile = new Map<string, number>();
    const largeAnon: Array<{ rssMB: number; sizeMB: number }> = [];
    let name = '';
    let size = 0;
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
      if (header) {
        name = header[1] ?? '';
        continue;
      }
      const m = /^(Size|Rss):\s+(\d+) kB/.exec(line);
      if (!m) continue;
      if (m[1] === 'Size') {
        size = Number(m[2]);
        continue;
      }
      const rss = Number(m[2]);
      if (name.startsWith('/')) byFile.set(name, (byFile.get(name) ?? 0) + rss);
      else if (rss >= 16 * 1024) largeAnon.push({ rssMB: Math.round(rss / 102.4) / 10, sizeMB: Math.round(size / 102.4) / 10 });
    }
    const topFiles = [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([file, rss]) => ({ file: file.split('/').slice(-2).join('/'), rssMB: Math.round(rss / 102.4) / 10 }));
    return { anonMB: Math.round(kb('RssAnon') / 102.4) / 10, fileMB: Math.round(kb('RssFile') / 102.4) / 10, shmemMB: Math.round(kb('RssShmem') / 102.4) / 10, topFiles, largeAnon: largeAnon.sort((a, b) => b.rssMB - a.rssMB) };
  } catch {
    return undefined;
  }
}
