/**
 * Results no renderer knows: the JSON's numeric summary (every numeric leaf by its path, arrays
 * of numbers as count, min, median and max), so that no results file ever renders as a bare
 * heading; and its command when it has one.
 */
import type { Machine } from '../machine';
import { num, reproduce, table, type Section } from './format';

/** At most this many figures per file: beyond it the table stops being readable (the file holds the rest). */
const MAX_FIGURES = 60;

function leaves(value: unknown, path: string, out: Array<[string, string]>): void {
  if (typeof value === 'number') out.push([path, num(value)]);
  else if (Array.isArray(value)) {
    if (value.length > 0 && value.every((x) => typeof x === 'number')) {
      const sorted = [...(value as number[])].sort((a, b) => a - b);
      out.push([path, `${value.length} values: min ${num(sorted[0])}, median ${num(sorted[Math.floor(sorted.length / 2)])}, max ${num(sorted.at(-1))}`]);
    } else value.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'machine') leaves(v, path ? `${path}.${k}` : k, out);
  }
}

export function numericSummary(file: string, data: Record<string, unknown>, date: string): Section {
  const figures: Array<[string, string]> = [];
  leaves(data, '', figures);
  const shown = figures.slice(0, MAX_FIGURES);
  const command = typeof data.command === 'string' ? data.command : undefined;
  return {
    part: 'experiments',
    topic: 'Other results (no renderer yet: numeric summary)',
    heading: `${typeof data.title === 'string' ? data.title : file} (${date.slice(0, 10)})`,
    date,
    body: [
      `Every number of \`benchmarks/results/${file}\`${figures.length > shown.length ? ` (the first ${shown.length} of ${figures.length})` : ''}, by its path in the JSON.`,
      '',
      shown.length ? table(['figure', 'value'], shown.map(([p, v]) => [`\`${p}\``, v])) : 'The file holds no number.',
      '',
      command ? reproduce(command, data.machine as Machine | undefined, date) : 'The file records no command.',
    ].join('\n'),
  };
}
