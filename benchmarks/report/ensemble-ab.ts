/** benchmarks/ensemble-ab.ts results (ensemble-ab-[same-process-]<users>x<products>[-exclude-purchased].json): this checkout's recommend path against a git revision on one saved model. */
import { describeMachine, type Machine } from '../machine';
import { count, loadText, num, table, type Renderer } from './format';

interface EnsembleAb {
  command?: string;
  machine: Machine;
  mode?: 'same-process';
  base: { rev: string; commit?: string };
  head: string;
  users: number;
  products: number;
  rounds?: number;
  excludePurchased?: boolean;
  loadAverage: number[];
  table: Array<{ measure: string; base: number; new: number; ratio: number }>;
}

export const ensembleAb: Renderer = {
  matches: (file) => file.startsWith('ensemble-ab-'),
  render({ data, date }) {
    const d = data as unknown as EnsembleAb;
    const sameProcess = d.mode === 'same-process';
    const base = d.base.commit && d.base.commit !== d.base.rev ? `${d.base.rev} (${d.base.commit})` : d.base.rev;
    // Early same-process files recorded no command: the flags that wrote them.
    const command = d.command ?? `NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/ensemble-ab.ts --base ${d.base.rev} --users ${d.users} --products ${d.products}${sameProcess ? ' --same-process' : ` --rounds ${d.rounds}`}`;
    const how = sameProcess
      ? 'Both sides load the same saved model in one process and time the same shoppers, alternating call by call.'
      : `Both checkouts load the same saved model and time the same shoppers, alternating in fresh processes; per side the median of ${d.rounds} rounds.`;
    return {
      part: 'experiments',
      topic: 'Recommend path A/B against a git revision (benchmarks/ensemble-ab.ts)',
      heading: `${d.head} against ${base}, ${count(d.users)} x ${count(d.products)}${d.excludePurchased ? ', purchased items excluded' : ''}${sameProcess ? ', same process' : ''} (${date.slice(0, 10)})`,
      date,
      body: [
        `${how} CPU time is the reading on a loaded machine; ratio = new / base.`,
        '',
        table(['measure', base, d.head, 'ratio'], d.table.map((r) => [r.measure, num(r.base), num(r.new), r.ratio.toFixed(2)])),
        '',
        `Reproduce: \`${command}\` (${describeMachine(d.machine)}; ${date.slice(0, 10)}; ${loadText(d.loadAverage)} on ${d.machine.cores} cores).`,
      ].join('\n'),
    };
  },
};
