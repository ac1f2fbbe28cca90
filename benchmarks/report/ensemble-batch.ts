/** benchmarks/ensemble-batch.ts results (ensemble-batch-*.json): recommendBatch on 1 and 2 threads against recommend() per user, P1/P2. */
import { describeMachine, type Machine } from '../machine';
import { recordTable, type Renderer, type TableRow } from './format';

interface EnsembleBatch {
  title: string;
  command: string;
  rev: string;
  machine: Machine;
  loadAverage: { min: number; max: number };
  tables: Record<string, TableRow[]>;
  notes: string[];
}

/** The issue 13 goal for the non-neural ensemble's batch recommend on P1/P2. */
const BATCH_GOAL_USERS_PER_SECOND = 15_000;

export const ensembleBatch: Renderer = {
  matches: (file) => file.startsWith('ensemble-batch-'),
  render({ data, date }) {
    const d = data as unknown as EnsembleBatch;
    const parts: string[] = [];
    for (const [name, rows] of Object.entries(d.tables)) parts.push(`#### ${name}`, '', recordTable(rows), '');
    const best = new Map<string, number>();
    for (const r of d.tables.throughput ?? []) best.set(String(r.protocol), Math.max(best.get(String(r.protocol)) ?? 0, Number(r['users/s (wall)'])));
    const goal = [...best].map(([p, v]) => `${p} ${v.toLocaleString('en-US')} users/s (${v >= BATCH_GOAL_USERS_PER_SECOND ? 'met' : `missed, ${(BATCH_GOAL_USERS_PER_SECOND / v).toFixed(1)}x short`})`);
    parts.push(`Goal (issue 13): at least ${BATCH_GOAL_USERS_PER_SECOND.toLocaleString('en-US')} users/s wall on P1 and P2. Best way in this run: ${goal.join(', ')}; wall time is only meaningful at a low load average.`, '');
    for (const n of d.notes) parts.push(`- ${n}`);
    parts.push('', `Reproduce: \`${d.command}\` (${describeMachine(d.machine)}; ${date.slice(0, 10)}, git ${d.rev}, load average ${d.loadAverage.min.toFixed(1)} to ${d.loadAverage.max.toFixed(1)}).`);
    return { part: 'speed', topic: 'Batch recommend (benchmarks/ensemble-batch.ts)', heading: `${d.title} (${date.slice(0, 10)})`, date, body: parts.join('\n') };
  },
};
