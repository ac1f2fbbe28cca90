import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

/** The machine a benchmark ran on, printed and stored with every result. */
export function machine(): Machine {
  const c = cpus();
  return {
    cores: c.length,
    cpu: c[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function describeMachine(m: Machine = machine()): string {
  return `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`;
}

/** p-th percentile (0..100) of a sample, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/**
 * q-quantile (0..1) of an already ascending sample, sorted[floor(q * n)] (clamped): the
 * definition the component speed scripts report, not the nearest-rank `percentile` above.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The number after `--name` on the command line, or `fallback` when the flag is absent. */
export function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** The text after `--name` on the command line, or `fallback` when the flag is absent. */
export function textArg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** One row per thread count of an interleaved ours-vs-implicit timing run: medians of the `ours-<n>` / `implicit-<n>` samples, their ratio (ours / implicit) and each side's speed-up over its own 1-thread median. */
export function threadScalingRows(times: Record<string, number[]>, threadCounts: readonly number[]) {
  const med = (key: string) => (times[key] ? median(times[key]) : NaN);
  return threadCounts.map((threads) => ({
    threads,
    oursSeconds: med(`ours-${threads}`),
    implicitSeconds: med(`implicit-${threads}`),
    ratio: med(`ours-${threads}`) / med(`implicit-${threads}`),
    oursSpeedup: med('ours-1') / med(`ours-${threads}`),
    implicitSpeedup: med('implicit-1') / med(`implicit-${threads}`),
  }));
}

/**
 * CPU seconds (user + system) in a /proc stat file: /proc/<pid>/stat for a process (every
 * thread), /proc/self/task/<tid>/stat for one thread. /proc counts in clock ticks of USER_HZ,
 * 100 on Linux, so the figure moves in 10 ms steps. Null where the file does not exist (no /proc).
 */
export function procCpuSeconds(path: string): number | null {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
