/**
 * benchmarks/reranker-quality.ts results (reranker-<protocol>[-lite][-<tag>].json): the learned
 * reranker beside the tuned linear ensemble on one fit, shown under each protocol's table, and
 * issue 9's headline (reranked against linear per protocol, and the two list goals).
 */
import { describeMachine, type Machine } from '../machine';
import { f4, loadText, optionsOf, table } from './format';

interface Row {
  name: string;
  ndcg10: number;
  recall10: number;
  recall20: number;
  repeat10?: number;
  explore10?: number;
  seconds10: number;
}

export interface RerankerRun {
  protocol: string;
  title: string;
  command: string;
  date: string;
  machine: Machine;
  without: string[];
  validationOnly?: boolean;
  loadAverage?: { start: number; end: number };
  reranker: {
    trained: boolean;
    usableQueries?: number;
    poolRecall?: number;
    training?: { treesGrown: number; treesKept: number; stoppedBy: string };
    guard?: { queries: number; linearNdcg: number; forestNdcg: number; confidence: number; linearRecall?: number; forestRecall?: number };
  } | null;
  fitSeconds: Record<string, number>;
  rows: Row[];
  lists: Row[];
  transfer: Row[] | null;
}

export const isRerankerRun = (file: string, data: Record<string, unknown>): boolean =>
  /^reranker-P/.test(file) && typeof data.protocol === 'string' && Array.isArray(data.rows) && 'reranker' in data;

/** The two test rows reranker-quality.ts measures on one fit, by name (other rows may join them). */
function testRows(r: RerankerRun): { lin: Row; rer: Row } | null {
  const lin = r.rows.find((x) => x.name === 'ensemble (tuned linear)');
  const rer = r.rows.find((x) => x.name === 'ensemble (reranked)');
  return !r.validationOnly && lin && rer ? { lin, rer } : null;
}

/** A run's name in tables: its options after the protocol id (the tag included), or "default". */
function runName(r: RerankerRun): string {
  const options = optionsOf(r.command).replace(new RegExp(`^${r.protocol}\\s*`), '');
  return options ? `\`${options}\`` : 'default';
}

function forestCell(r: RerankerRun): string {
  const s = r.reranker;
  if (!s) return '–';
  const trees = s.training ? `${s.training.treesKept} of ${s.training.treesGrown} trees` : 'no trees';
  return s.trained ? `used: ${trees}` : `**not used** (${trees})`;
}

function guardCell(r: RerankerRun): string {
  const g = r.reranker?.guard;
  if (!g) return '–';
  const recall = g.linearRecall !== undefined && g.forestRecall !== undefined ? `; pool R@20 ${f4(g.linearRecall)} -> ${f4(g.forestRecall)}` : '';
  return `${f4(g.linearNdcg)} -> ${f4(g.forestNdcg)} on ${g.queries} queries, ${(100 * g.confidence).toFixed(1)}%${recall}`;
}

/** Newest first; on the same day the run with fewer options (nearer the defaults) first. */
export function byRecency(a: { date: string; command: string }, b: { date: string; command: string }): number {
  if (a.date !== b.date) return a.date < b.date ? 1 : -1;
  const flags = (c: string) => (c.match(/ --/g) ?? []).length;
  return flags(a.command) - flags(b.command);
}

/**
 * Every run of one protocol: the tuned linear and the reranked ensemble side by side on the test
 * split, the forest the guard let through (or not) and the guard's figures on shoppers carved from
 * training; then the lists and the transfer runs where a run measured them.
 */
export function rerankerBlock(runs: RerankerRun[]): string {
  const sorted = [...runs].sort(byRecency);
  const label = (i: number) => `run ${i + 1}`;
  const rows = sorted.map((r, i) => {
    const pair = testRows(r);
    const strategies = Object.keys(r.fitSeconds).filter((n) => !['tuning', 'reranker', 'fallback'].includes(n)).join(', ');
    const test = !pair
      ? ['validation only', '–', '–', '–', '–', '–']
      : [f4(pair.lin.ndcg10), pair.rer.ndcg10 > pair.lin.ndcg10 ? `**${f4(pair.rer.ndcg10)}**` : f4(pair.rer.ndcg10), f4(pair.lin.recall10), f4(pair.rer.recall10), f4(pair.lin.recall20), pair.rer.recall20 > pair.lin.recall20 ? `**${f4(pair.rer.recall20)}**` : f4(pair.rer.recall20)];
    return [`${label(i)}: ${runName(r)}`, r.date.slice(0, 10), strategies, ...test, forestCell(r), guardCell(r)];
  });
  const parts = [
    'The tuned linear ensemble and the reranked one on the same fit (weights tuned and forest trained on a validation split carved from training); the guard column is NDCG@10 of the linear sum -> the forest on guard shoppers the forest was not trained on, and the share of bootstrap resamples in which the forest is better (it is used at 90% and above). Bold: the reranked figure above the linear one.',
    '',
    table(['run (options)', 'date', 'strategies', 'linear NDCG@10', 'reranked NDCG@10', 'linear R@10', 'reranked R@10', 'linear R@20', 'reranked R@20', 'forest', 'guard NDCG@10 (linear -> forest)'], rows),
  ];
  const withLists = sorted.map((r, i) => ({ r, i })).filter(({ r }) => r.lists.length > 0);
  if (withLists.length) {
    parts.push(
      '',
      'Lists at K = 10 (issue 9): repeat recall of "buy it again" against P-TopFreq, explore recall of "new for you" (discover) against TIFU-KNN alone.',
      '',
      table(
        ['run', 'list', 'NDCG@10', 'R@10', 'R@20', 'repeat R@10', 'explore R@10'],
        withLists.flatMap(({ r, i }) => r.lists.map((l) => [label(i), l.name, f4(l.ndcg10), f4(l.recall10), f4(l.recall20), f4(l.repeat10), f4(l.explore10)])),
      ),
    );
  }
  const withTransfer = sorted.map((r, i) => ({ r, i })).filter(({ r }) => r.transfer && r.transfer.length > 0);
  if (withTransfer.length) {
    parts.push(
      '',
      'Transfer: a shop of another seed ranked with its own trees and with the trees trained on the other shop.',
      '',
      table(['run', 'ranking', 'NDCG@10', 'R@10', 'R@20'], withTransfer.flatMap(({ r, i }) => r.transfer!.map((t) => [label(i), t.name, f4(t.ndcg10), f4(t.recall10), f4(t.recall20)]))),
    );
  }
  parts.push('', 'Reproduce:', '', ...sorted.map((r, i) => `- ${label(i)}: \`${r.command}\` (${describeMachine(r.machine)}; ${r.date.slice(0, 10)}${r.loadAverage ? `; ${loadText(r.loadAverage)}` : ''})`));
  return parts.join('\n');
}

/**
 * Issue 9's headline per protocol and strategy set: the newest run that ranked the test split, reranked against
 * tuned linear; and the list goals from the newest run that measured the lists.
 */
export function rerankerHeadline(runs: RerankerRun[], order: string[]): string {
  const protocols = [...new Set(runs.map((r) => r.protocol))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const rows: string[][] = [];
  const lists: string[][] = [];
  for (const p of protocols) {
    const mine = runs.filter((r) => r.protocol === p).sort(byRecency);
    // One row per strategy set: all strategies and a lighter set (--without) are different ensembles.
    for (const set of [...new Set(mine.map((r) => r.without.join(',')))].sort()) {
      const tested = mine.find((r) => r.without.join(',') === set && testRows(r) !== null);
      if (!tested) continue;
      const { lin, rer } = testRows(tested)!;
      const gain = (a: number, b: number) => `${b >= a ? '+' : ''}${((100 * (b - a)) / a).toFixed(1)}%`;
      rows.push([p, set ? `without ${set.replace(/,/g, ', ')}` : 'all', runName(tested), `${f4(lin.ndcg10)} / ${f4(rer.ndcg10)} (${gain(lin.ndcg10, rer.ndcg10)})`, `${f4(lin.recall20)} / ${f4(rer.recall20)} (${gain(lin.recall20, rer.recall20)})`, forestCell(tested), rer.ndcg10 > lin.ndcg10 ? 'reranked ahead' : rer.ndcg10 === lin.ndcg10 ? 'tie' : '**linear ahead**']);
    }
    const listed = mine.find((r) => r.lists.length > 0);
    if (listed) {
      const by = (name: string) => listed.lists.find((l) => l.name === name);
      const topFreq = by('P-TopFreq (reference)')?.repeat10;
      const tifu = by('TIFU-KNN alone (reference)')?.explore10;
      const buyAgain = Math.max(by('buy-again (linear)')?.repeat10 ?? NaN, by('buy-again (reranked)')?.repeat10 ?? NaN);
      const discover = Math.max(by('discover (linear)')?.explore10 ?? NaN, by('discover (reranked)')?.explore10 ?? NaN);
      const holds = (ours: number, ref: number | undefined) => (ref !== undefined && ours > ref ? 'holds' : '**missed**');
      lists.push([
        p,
        runName(listed),
        `${f4(by('buy-again (linear)')?.repeat10)} / ${f4(by('buy-again (reranked)')?.repeat10)} vs ${f4(topFreq)}: ${holds(buyAgain, topFreq)}`,
        `${f4(by('discover (linear)')?.explore10)} / ${f4(by('discover (reranked)')?.explore10)} vs ${f4(tifu)}: ${holds(discover, tifu)}`,
      ]);
    }
  }
  return [
    'Per protocol and strategy set the newest run that ranked the test split (the tables under each protocol above hold every run, with its command). Tuned linear / reranked ensemble on the same fit; NDCG@10 decides the verdict.',
    '',
    table(['protocol', 'strategies', 'run (options)', 'NDCG@10 linear / reranked', 'R@20 linear / reranked', 'forest', 'verdict'], rows),
    ...(lists.length
      ? ['', 'List goals at K = 10, from the newest run that measured the lists (linear / reranked combiner against the reference):', '', table(['protocol', 'run (options)', 'buy-again repeat R@10 vs P-TopFreq', 'discover explore R@10 vs TIFU-KNN alone'], lists)]
      : []),
  ].join('\n');
}
