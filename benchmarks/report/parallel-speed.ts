/** benchmarks/parallel-speed.ts results (parallel-speed-<users>x<products>.json): fits on 1..n threads, ours beside implicit's. */
import type { Machine } from '../machine';
import { count, fs1, loadText, num, reproduce, table, variantHeading, type Renderer, type TableRow, recordTable } from './format';

interface FitRow {
  threads: number;
  oursSeconds: number;
  implicitSeconds: number;
  ratio: number;
  oursSpeedup: number;
  implicitSpeedup: number;
}

interface ParallelSpeed {
  command: string;
  machine: Machine;
  loadAverage1m: { before: number; after: number };
  data: { users: number; items: number; nonzeros: number; multiplyAdds: number };
  peer: string;
  itemknnFit: FitRow[];
  otherFits: TableRow[];
  identicalAcrossThreads: boolean;
  poolStartMs: number;
}

export const parallelSpeed: Renderer = {
  matches: (file) => file.startsWith('parallel-speed-'),
  render({ data, date }) {
    const d = data as unknown as ParallelSpeed;
    return {
      part: 'speed',
      topic: 'Fits on 1 and 2 threads',
      heading: variantHeading(d.command, date, `ItemKNN fit beside ${d.peer}, ${count(d.data.users)} x ${count(d.data.items)}`),
      date,
      body: [
        `${count(d.data.nonzeros)} user-item pairs (${count(d.data.multiplyAdds)} multiply-adds in the co-occurrence). Median wall seconds per thread count; ratio = ours / implicit; speed-up against the same side on 1 thread.`,
        '',
        table(['threads', 'ours s', 'implicit s', 'ratio', 'ours speed-up', 'implicit speed-up'], d.itemknnFit.map((r) => [String(r.threads), fs1(r.oursSeconds), fs1(r.implicitSeconds), r.ratio.toFixed(2), `${r.oursSpeedup.toFixed(2)}x`, `${r.implicitSpeedup.toFixed(2)}x`])),
        ...(d.otherFits.length ? ['', recordTable(d.otherFits)] : []),
        '',
        `Models identical across thread counts: ${d.identicalAcrossThreads}. Worker pool start ${num(d.poolStartMs)} ms.`,
        '',
        reproduce(d.command, d.machine, date, loadText(d.loadAverage1m)),
      ].join('\n'),
    };
  },
};
