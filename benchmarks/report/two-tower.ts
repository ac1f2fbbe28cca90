/** benchmarks/two-tower.ts results (two-tower-<protocol>[-<options>].json): TwoTower beside ALS, NeuralCF and ContentBased on one protocol. */
import type { Machine } from '../machine';
import { count, f4, fs1, num, reproduce, table, variantHeading, type Renderer } from './format';

interface Metrics {
  precision: number;
  recall: number;
  map: number;
  ndcg: number;
  hitRate: number;
  coverage: number;
  evaluated: number;
}

interface TwoTowerResult {
  protocol: string;
  command: string;
  seed: number;
  machine: Machine;
  note?: string;
  split: Record<string, { users: number; catalog: number; queries: number; heldOut: number }>;
  rows: Array<{ name: string; fitSeconds: number; results: Record<string, Record<string, Metrics>>; examplesPerSecond?: number; epochs?: number; bestEpoch?: number }>;
}

/** The command as a shell takes it: two-tower.ts records its argv joined, which drops the quotes around `--options`' JSON. */
const shellCommand = (command: string) => command.replace(/--options (\{\S*\})/, "--options '$1'");

export const twoTower: Renderer = {
  matches: (file) => file.startsWith('two-tower-'),
  render({ data, date }) {
    const d = data as unknown as TwoTowerResult;
    const sets = Object.keys(d.split);
    const rows = d.rows.flatMap((r) =>
      Object.entries(r.results).flatMap(([set, byK]) =>
        Object.entries(byK).map(([k, m]) => [
          r.name,
          ...(sets.length > 1 ? [set] : []),
          k,
          f4(m.precision),
          f4(m.recall),
          f4(m.map),
          f4(m.ndcg),
          f4(m.hitRate),
          f4(m.coverage),
          count(m.evaluated),
          fs1(r.fitSeconds),
          r.examplesPerSecond === undefined ? '–' : count(Math.round(r.examplesPerSecond)),
          r.epochs === undefined ? '–' : `${r.bestEpoch} of ${r.epochs}`,
        ]),
      ),
    );
    const s = Object.entries(d.split).map(([name, x]) => `${sets.length > 1 ? `${name}: ` : ''}${count(x.users)} users, ${count(x.catalog)} items, ${count(x.queries)} queries, ${count(x.heldOut)} held out`).join('; ');
    return {
      part: 'experiments',
      topic: 'Two-tower model beside ALS, NeuralCF and content (benchmarks/two-tower.ts)',
      heading: variantHeading(shellCommand(d.command), date),
      date,
      body: [
        `Split: ${s}.${sets.length > 1 ? ' Candidates "cold": the held-out (cold) items only; "all": every item but the user\'s training items.' : ''} Metrics at K; fit s wall-clock; examples/s TwoTower's training throughput (positives per second).${d.note ? ` ${d.note}` : ''}`,
        '',
        table(['method', ...(sets.length > 1 ? ['candidates'] : []), 'K', 'P@K', 'R@K', 'MAP@K', 'NDCG@K', 'HitRate@K', 'Coverage@K', 'users', 'fit s', 'examples/s', 'best epoch'], rows),
        '',
        reproduce(shellCommand(d.command), d.machine, date, `seed ${num(d.seed)}`),
      ].join('\n'),
    };
  },
};
