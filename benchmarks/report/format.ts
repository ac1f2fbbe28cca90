/** Number formats, Markdown tables and the section record every result renderer of benchmarks/report.ts returns. */
import { describeMachine, type Machine } from '../machine';

export const f4 = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(4));
export const fs1 = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
export const ms3 = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
export const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
/** Integers with thousands separators, other numbers to 4 significant digits. */
export const num = (v: number | null | undefined): string =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4)));
export const count = (v: number): string => v.toLocaleString('en-US');

/** A Markdown table: the first column left-aligned (names), the others right-aligned (figures). */
export function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export interface TableRow {
  [key: string]: unknown;
}

/** A table of records whose keys are already the column names (with their units), as scripts write them in `tables`. */
export function recordTable(rows: TableRow[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? num(v) : String(v ?? '–'));
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(' | ')} |`)].join('\n');
}

/** Where a result sits in docs/benchmarks.md: quality tables, then speed, then experiments and A/B history. */
export type Part = 'quality' | 'speed' | 'experiments';

export interface Section {
  part: Part;
  /** The `##` heading the section is grouped under: one per topic. */
  topic: string;
  /** The section's own `###` heading: what was measured, with the variant's options, not the file name. */
  heading: string;
  /** Newest first within a topic (ISO date or date-time). */
  date: string;
  /** Markdown: figures, then the "Reproduce:" line; sub-headings at `####`. */
  body: string;
}

/** One results file as a renderer sees it; `date` is the file's own date, else its last commit's. */
export interface ResultFile {
  file: string;
  data: Record<string, unknown>;
  date: string;
}

/** Draws the results files of one script (or of a few scripts writing the same shape). */
export interface Renderer {
  matches(file: string, data: Record<string, unknown>): boolean;
  render(result: ResultFile): Section;
}

/** The options of a benchmark command: everything after the script's path (`npx tsx benchmarks/x.ts P1 --seed 7` -> `P1 --seed 7`). */
export function optionsOf(command: string | undefined): string {
  if (!command) return '';
  const at = command.search(/benchmarks\/[\w-]+\.(ts|py)/);
  return at < 0 ? command : command.slice(at).replace(/^\S+\s*/, '').trim();
}

/** "options (date)" or "defaults (date)": a variant heading. */
export function variantHeading(command: string | undefined, date: string, prefix = ''): string {
  const options = optionsOf(command);
  const what = [prefix, options ? `\`${options}\`` : prefix ? '' : 'defaults'].filter(Boolean).join(', ');
  return `${what} (${date.slice(0, 10)})`;
}

/** The reproduce line under every section: the command, the machine, the date and the load if recorded. */
export function reproduce(command: string, machine: Machine | undefined, date: string, load?: string): string {
  const where = [machine ? describeMachine(machine) : '', date.slice(0, 10), load ?? ''].filter(Boolean).join('; ');
  return `Reproduce: \`${command}\`${where ? ` (${where})` : ''}.`;
}

/** "load average a to b" from any of the shapes scripts record. */
export function loadText(load: unknown): string | undefined {
  if (typeof load === 'number') return `load average ${load.toFixed(1)}`;
  if (Array.isArray(load) && load.every((x) => typeof x === 'number') && load.length) return `load average ${Math.min(...load).toFixed(1)} to ${Math.max(...load).toFixed(1)}`;
  if (load && typeof load === 'object') {
    const o = load as Record<string, unknown>;
    const first = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : (v as number));
    if (o.start !== undefined && o.end !== undefined) return `load average ${first(o.start).toFixed(1)} at start, ${first(o.end).toFixed(1)} at end`;
    if (o.before !== undefined && o.after !== undefined) return `load average ${first(o.before).toFixed(1)} at start, ${first(o.after).toFixed(1)} at end`;
    if (o.min !== undefined && o.max !== undefined) return `load average ${first(o.min).toFixed(1)} to ${first(o.max).toFixed(1)}`;
  }
  return undefined;
}
