/**
 * Results that carry their own tables (`title`, `tables` of records whose keys name the columns
 * with units, `notes`, `command`): P5.json (p5.ts), fit-ab-*.json (fit-ab.ts), reranker-ab-*.json
 * (reranker-ab.ts).
 */
import type { Machine } from '../machine';
import { loadText, recordTable, reproduce, type Part, type Renderer, type TableRow } from './format';

interface TablesResult {
  title: string;
  command: string;
  machine?: Machine;
  base?: { rev: string; commit: string };
  head?: string;
  mode?: string;
  loadAverage?: number[];
  tables: Record<string, TableRow[]>;
  notes?: string[];
}

/** Where each script's tables go; its files share one topic heading. */
const PLACES: Array<{ prefix: string; part: Part; topic: string }> = [
  { prefix: 'P5', part: 'quality', topic: 'P5 association rules, Groceries (R arules reference)' },
  { prefix: 'fit-ab-', part: 'experiments', topic: 'Fit A/B on 1 and 2 threads (benchmarks/fit-ab.ts)' },
  { prefix: 'reranker-ab-', part: 'experiments', topic: 'Reranked recommend A/B against a git revision (benchmarks/reranker-ab.ts)' },
];

export const tablesResult: Renderer = {
  matches: (file, data) => PLACES.some((p) => file.startsWith(p.prefix)) && typeof data.tables === 'object' && data.tables !== null,
  render({ file, data, date }) {
    const d = data as unknown as TablesResult;
    const place = PLACES.find((p) => file.startsWith(p.prefix))!;
    const parts: string[] = [];
    for (const [name, rows] of Object.entries(d.tables)) parts.push(`#### ${name}`, '', recordTable(rows), '');
    for (const n of d.notes ?? []) parts.push(`- ${n}`);
    parts.push('', reproduce(d.command, d.machine, date, d.loadAverage ? loadText(d.loadAverage) : undefined));
    // The A/B files' titles repeat per run: the revisions and mode tell the runs apart.
    const revisions = d.base && d.head ? `: ${d.head} against ${d.base.rev}${d.base.commit && d.base.commit !== d.base.rev ? ` (${d.base.commit})` : ''}${d.mode ? `, ${d.mode}` : ''}` : '';
    const heading = place.part === 'quality' ? `${d.title.replace(/ \(.*\)$/, '').replace(/^P5 association rules, /, '')} (${date.slice(0, 10)})` : `${d.title}${revisions} (${date.slice(0, 10)})`;
    return { part: place.part, topic: place.topic, heading, date, body: parts.join('\n') };
  },
};
