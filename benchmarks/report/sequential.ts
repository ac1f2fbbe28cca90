/** benchmarks/sequential.ts results (sequential-<protocol>[-<options>].json): SequentialRecommender alone beside the next-basket baselines. */
import type { Machine } from '../machine';
import { count, f4, fs1, num, reproduce, table, variantHeading, type Renderer } from './format';

interface Metrics {
  precision: number;
  recall: number;
  ndcg: number;
  hitRate: number;
  coverage: number;
  evaluated: number;
  recallRepeat?: number;
  recallExplore?: number;
}

interface SequentialResult {
  protocol: string;
  command: string;
  machine: Machine;
  split: { users: number; catalog: number; queries: number; heldOut: number };
  training: { backend: string; sequences: number; loss: number[]; validation: number[]; bestEpoch: number; sequencesPerSecond: number; seconds: number };
  rows: Array<{ name: string; fitSeconds: number; byK: Record<string, Metrics> }>;
}

export const sequential: Renderer = {
  matches: (file) => file.startsWith('sequential-'),
  render({ data, date }) {
    const d = data as unknown as SequentialResult;
    const t = d.training;
    const rows = d.rows.flatMap((r) =>
      Object.entries(r.byK).map(([k, m]) => [r.name, k, f4(m.precision), f4(m.recall), f4(m.ndcg), f4(m.hitRate), f4(m.coverage), f4(m.recallRepeat), f4(m.recallExplore), count(m.evaluated), fs1(r.fitSeconds)]),
    );
    const validation = t.validation.length ? `; its validation metric per epoch from ${f4(Math.min(...t.validation))} to ${f4(Math.max(...t.validation))}` : '';
    return {
      part: 'experiments',
      topic: 'Sequential next-basket model beside its baselines (benchmarks/sequential.ts)',
      heading: variantHeading(d.command, date),
      date,
      body: [
        `Split: ${count(d.split.users)} users, ${count(d.split.catalog)} items, ${count(d.split.queries)} queries (${d.protocol.endsWith('-val') ? 'validation users: where options are compared' : 'test users'}), ${count(d.split.heldOut)} held-out items. Training (${t.backend}): best epoch ${t.bestEpoch} of ${t.loss.length}${validation}; ${num(t.sequencesPerSecond)} sequences/s, ${fs1(t.seconds)} s.`,
        '',
        table(['method', 'K', 'P@K', 'R@K', 'NDCG@K', 'HitRate@K', 'Coverage@K', 'R@K repeat', 'R@K explore', 'users', 'fit s'], rows),
        '',
        reproduce(d.command, d.machine, date),
      ].join('\n'),
    };
  },
};
