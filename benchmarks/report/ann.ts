/** benchmarks/ann.ts results (ann-<data>-<metric>-<items>x<dim>[-<configs>].json): vector indexes' recall against exact search, latency, build and memory. */
import type { Machine } from '../machine';
import { count, fs1, ms3, num, reproduce, table, variantHeading, type Renderer } from './format';

interface AnnRow {
  package: string;
  m: number;
  efConstruction: number;
  buildThreads: number;
  ef: number;
  recallAt10: number;
  p50ms: number;
  p99ms: number;
  cpuP50ms: number;
  cpuP99ms: number;
  buildSeconds: number;
  buildCached?: boolean;
  peakRssMiB: number;
  indexMiB: number;
  serializeSeconds: number;
  restoreSeconds: number | null;
  candidates: Array<{ k: number; p50ms: number; p99ms: number }>;
}

interface AnnResult {
  command: string;
  machine: Machine;
  setup: { items: number; dim: number; queries: number; data: string; metric: string };
  exact: { p50ms: number; p99ms: number };
  rows: AnnRow[];
}

/**
 * The tag of a file renamed by hand to keep a run beside a later one of the same command
 * (ann-...-h32-mips-l2.json: a sweep of a transform since dropped): what the name adds to the
 * one ann.ts writes, `ann-<data>-<metric>-<items>x<dim>-<configs>[-ef<a>-<b>...]`.
 */
function keptAs(file: string, d: AnnResult): string {
  const s = d.setup;
  const flag = (name: string) => d.command.match(new RegExp(`--${name} (\\S+)`))?.[1];
  let rest = file.replace(/\.json$/, '').replace(`ann-${s.data}-${s.metric}-${s.items}x${s.dim}`, '');
  const configs = flag('configs');
  if (configs) rest = rest.replace(`-${configs.split(',').join('-')}`, '');
  const ef = flag('ef');
  if (ef) rest = rest.replace(`-ef${ef.split(',').join('-')}`, '');
  return rest.replace(/^-/, '');
}

export const ann: Renderer = {
  matches: (file) => file.startsWith('ann-'),
  render({ file, data, date }) {
    const d = data as unknown as AnnResult;
    const s = d.setup;
    const tag = keptAs(file, d);
    const ks = [...new Set(d.rows.flatMap((r) => r.candidates.map((c) => c.k)))].sort((a, b) => a - b);
    const rows = d.rows.map((r) => [
      `${r.package} M ${r.m}, efC ${r.efConstruction}, ${r.buildThreads} build thread${r.buildThreads === 1 ? '' : 's'}`,
      String(r.ef),
      r.recallAt10.toFixed(4),
      ms3(r.p50ms),
      ms3(r.p99ms),
      ms3(r.cpuP99ms),
      ...ks.map((k) => {
        const c = r.candidates.find((x) => x.k === k);
        return c ? `${ms3(c.p50ms)} / ${ms3(c.p99ms)}` : '–';
      }),
      `${fs1(r.buildSeconds)}${r.buildCached ? ' (earlier run)' : ''}`,
      num(Math.round(r.indexMiB)),
      num(Math.round(r.peakRssMiB)),
      r.restoreSeconds === null ? '–' : fs1(r.restoreSeconds),
    ]);
    return {
      part: 'experiments',
      topic: 'Vector indexes: recall and latency at 1M items (benchmarks/ann.ts)',
      heading: variantHeading(d.command, date, `${s.data} ${s.metric}, ${count(s.items)} x ${s.dim}${tag ? `, kept as \`${tag}\`` : ''}`),
      date,
      body: [
        `${count(s.items)} vectors of ${s.dim} dimensions (${s.data}, metric ${s.metric}), ${count(s.queries)} queries, one per call on one thread. Exact search (src/util/ann.ts): p50 ${ms3(d.exact.p50ms)} ms, p99 ${ms3(d.exact.p99ms)} ms.`,
        '',
        table(['index', 'ef', 'recall@10', 'p50 ms', 'p99 ms', 'CPU p99 ms', ...ks.map((k) => `top-${k} p50 / p99 ms`), 'build s', 'index MiB', 'peak RSS MiB', 'restore s'], rows),
        '',
        reproduce(d.command, d.machine, date),
      ].join('\n'),
    };
  },
};
