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
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) the whole Postgres server has used so far, ms: every live `postgres` process (the
 * postmaster, its backends and background workers) plus what the postmaster's exited children used (cutime +
 * cstime), so a backend that exits between two readings is still counted. Undefined without /proc or Postgres.
 */
export function postgresCpuMs(): number | undefined {
  let total = 0;
  let found = false;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime (fields 14, 15); the postmaster (its parent is not postgres) adds cutime, cstime (16, 17).
      let ticks = Number(f[11]) + Number(f[12]);
      const parent = (() => {
        try {
          const p = readFileSync(`/proc/${f[1]}/stat`, 'utf8');
          return p.slice(p.indexOf('(') + 1, p.lastIndexOf(')'));
        } catch {
          return '';
        }
      })();
      if (parent !== 'postgres') ticks += Number(f[13]) + Number(f[14]);
      if (Number.isFinite(ticks)) {
        total += ticks * 10; // USER_HZ is 100 on Linux
        found = true;
      }
    }
  } catch {
    return undefined;
  }
  return found ? total : undefined;
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
