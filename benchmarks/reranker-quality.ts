/**
 * The learned reranker against the tuned linear ensemble, and the buy-again / discover lists,
 * on the protocols of benchmarks/quality.ts (its loaders and strategy sets, imported):
 *
 *   npx tsx benchmarks/reranker-quality.ts P4-small|P4-large|P3|P6|P1|P2 [--seed 42]
 *        [--transfer 43] [--max-queries 1000] [--candidates 30] [--folds 2] [--without ncf,sequential]
 *        [--ndcg-at 10] [--weights-from results.json] [--no-lists] [--validation-only] [--tag name]
 *        [--named-validation] [--cut 300] [--trees 200] [--leaves 15] [--min-leaf 50] [--min-confidence 0.9]
 *
 * One fit per protocol: weights tuned and the reranker trained on the same validation split
 * carved from the training data (the test split is never read before evaluation); the tuned
 * linear ranking and the reranked one are both measured on that fit. Lists (next-basket
 * protocols): repeat recall@10 of buy-again against P-TopFreq, explore recall@10 of discover
 * against TIFU-KNN alone. `--transfer S` (P4 only) also builds the synthetic shop with seed S
 * and ranks it with the trees trained on the seed-`--seed` shop (strategies refitted on S),
 * and the seed-`--seed` shop with the seed-S trees (each when the guard let that forest through).
 * `--ndcg-at K`: the booster's NDCG truncation (objective, early stopping and guard metric).
 * `--weights-from F`: the weights and normalization of F's `tuning` (a results file of this
 * script on the same protocol, seed and strategies) in place of tuning them again: the tuning
 * is deterministic, so the fit is the same one without its tuning time (the reranker then
 * carves the same validation split itself). `--no-lists`: the ensemble rows only.
 * `--named-validation` (P6): the forest trains on the protocol's own validation users (P6's
 * keyset.val shoppers, their held-out future basket; RerankerOptions.validation) instead of
 * queries carved from the training histories, the guard holding out a share of them.
 * `--cut N`: the recommender's candidatesPerStrategy (the linear merge's cut; quality.ts P6
 * tunes its weights at 300). `--trees`, `--leaves`, `--min-leaf`: the booster's trees,
 * numLeaves and minDataInLeaf. `--min-confidence C`: the guard's minConfidence (0 with
 * --validation-only: the importance of a forest the guard would turn down, to see what it learned).
 * `--validation-only`: fit and stop before the test split is ranked: the results file holds
 * the fit's figures (the reranker's guard on shoppers carved from training) and no test row,
 * for choosing features or options without seeing a test figure.
 * Writes benchmarks/results/reranker-<protocol>.json (`-lite` with --without, `-<tag>` with --tag);
 * `--table` prints the tables of docs/reranker.md from those files.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { HybridRecommender, ensembleRanker, evaluate, nextBasket, weightedRanker, type EvalResult, type IndexRanker, type Split } from '../src/index';
import { MergeEngine } from '../src/ensemble/merge';
import { Reranker } from '../src/ensemble/reranker/combiner';
import { TIFUKNN } from '../src/strategies/tifu-knn';
import { syntheticDataset } from '../examples/shared';
import { PROTOCOLS, RESULTS_DIR, SHARED_DATA } from './quality';
import { strategyRanker, topFreqRanker } from './rankers';
import { machine } from './machine';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const flagged = new Set(['--seed', '--transfer', '--max-queries', '--candidates', '--folds', '--without', '--ndcg-at', '--weights-from', '--tag', '--cut', '--trees', '--leaves', '--min-leaf', '--min-confidence'].filter((f) => args.includes(f)).flatMap((f) => [args.indexOf(f), args.indexOf(f) + 1]));
const ids = args.filter((a, i) => !a.startsWith('--') && !flagged.has(i));
const seed = Number(flag('seed') ?? 42);
const transfer = flag('transfer') === undefined ? null : Number(flag('transfer'));
const maxQueries = flag('max-queries') === undefined ? undefined : Number(flag('max-queries'));
const candidates = flag('candidates') === undefined ? undefined : Number(flag('candidates'));
const folds = flag('folds') === undefined ? undefined : Number(flag('folds'));
const without = (flag('without') ?? '').split(',').filter(Boolean);
const ndcgAt = flag('ndcg-at') === undefined ? undefined : Number(flag('ndcg-at'));
const weightsFrom = flag('weights-from');
const noLists = args.includes('--no-lists');
const validationOnly = args.includes('--validation-only');
const tag = flag('tag');
const namedValidation = args.includes('--named-validation');
const cut = flag('cut') === undefined ? undefined : Number(flag('cut'));
const minConfidence = flag('min-confidence') === undefined ? undefined : Number(flag('min-confidence'));
const numberFlag = (name: string) => (flag(name) === undefined ? undefined : Number(flag(name)));
/** The booster options given on the command line (the rest are RERANKER_BOOSTER's). */
const booster = Object.fromEntries(Object.entries({ ndcgAt, trees: numberFlag('trees'), numLeaves: numberFlag('leaves'), minDataInLeaf: numberFlag('min-leaf') }).filter(([, v]) => v !== undefined));

interface Row {
  name: string;
  ndcg10: number;
  recall10: number;
  recall20: number;
  repeat10?: number;
  explore10?: number;
  /** Seconds of the @10 evaluation pass (every query ranked once): a side-by-side cost, noisy on a shared machine. */
  seconds10: number;
}

async function measure(name: string, ranker: IndexRanker, split: Split): Promise<Row> {
  const at10: EvalResult = await evaluate(ranker, split, { k: 10 });
  const at20: EvalResult = await evaluate(ranker, split, { k: 20 });
  const row: Row = { name, ndcg10: at10.ndcg, recall10: at10.recall, recall20: at20.recall, seconds10: at10.seconds };
  if (at10.recallRepeat !== undefined) {
    row.repeat10 = at10.recallRepeat;
    row.explore10 = at10.recallExplore;
  }
  const f = (x: number | undefined) => (x === undefined ? '   -  ' : x.toFixed(4));
  console.log(`  ${name.padEnd(34)} NDCG@10 ${f(row.ndcg10)}  R@10 ${f(row.recall10)}  R@20 ${f(row.recall20)}  rep R@10 ${f(row.repeat10)}  expl R@10 ${f(row.explore10)}  (${(1000 * row.seconds10 / Math.max(1, at10.evaluated)).toFixed(2)} ms/query)`);
  return row;
}

/** The reranked ranking of `rec`'s strategies with another recommender's forest. */
function foreignForest(rec: HybridRecommender, forest: Reranker): IndexRanker {
  const names = rec.strategyNames;
  const data = rec.dataset;
  const merge = { weights: Float64Array.from(names, (n) => rec.strategyWeights[n]), normalization: rec.normalization, candidatesPerStrategy: rec.candidatesPerStrategy };
  const reranker = Reranker.forData(names, data, forest.model, forest.features.options, merge);
  const engine = new MergeEngine(names.map((n) => rec.strategy(n)), rec.fallback, data.nItems);
  return { rankIndices: (query, k, blocked) => reranker.rank(engine, query, k, blocked, null, true).items };
}

async function fitBoth(split: Split, id: string, fitSeed: number, validation: Split | null = null): Promise<HybridRecommender> {
  const spec = PROTOCOLS[id];
  const strategies = Object.fromEntries(Object.entries(spec.strategies()).filter(([n]) => !without.includes(n)));
  const tuned = weightsFrom === undefined ? null : JSON.parse(await readFile(weightsFrom, 'utf8')).tuning;
  const rec = new HybridRecommender({
    strategies,
    ...(tuned ? { weights: tuned.weights, normalization: tuned.normalization } : { weights: 'tune' as const, tune: { protocol: spec.validation } }),
    ...(cut ? { candidatesPerStrategy: cut } : {}),
    combiner: 'reranker',
    reranker: {
      protocol: spec.validation,
      validation,
      ...(maxQueries ? { maxQueries } : {}),
      ...(candidates ? { candidatesPerStrategy: candidates } : {}),
      ...(folds ? { folds } : {}),
      ...(minConfidence !== undefined ? { minConfidence } : {}),
      ...(Object.keys(booster).length ? { booster } : {}),
    },
  });
  if (tuned) console.log(`  weights and normalization from ${weightsFrom}: ${JSON.stringify(tuned.weights)} ${tuned.normalization}`);
  const t0 = performance.now();
  await rec.fit(split.train, {
    seed: fitSeed,
    onProgress: (p) => {
      if (p.stage === 'reranker' && p.message) console.log(`  reranker: ${p.message}`);
    },
  });
  console.log(`  fit ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(rec.fitSeconds)}`);
  return rec;
}

async function run(id: string): Promise<void> {
  const spec = PROTOCOLS[id];
  if (!spec) throw new Error(`unknown protocol ${id}; use one of ${Object.keys(PROTOCOLS).join(', ')}`);
  if (spec.needsShared && !existsSync(SHARED_DATA)) {
    console.log(`${id}: skipped (${SHARED_DATA} is absent)`);
    return;
  }
  const started = performance.now();
  const loadAtStart = loadavg()[0];
  const split = await spec.load(seed);
  console.log(`${spec.title}${without.length ? ` without ${without.join(', ')}` : ''}`);
  if (namedValidation && !spec.namedValidation) throw new Error(`--named-validation: ${id} names no validation users`);
  const validation = namedValidation ? await spec.namedValidation!(seed) : null;
  if (validation) console.log(`  the forest trains on the named validation users: ${JSON.stringify(validation.stats)}`);
  const rec = await fitBoth(split, id, seed, validation);
  const rows: Row[] = [];
  if (validationOnly) console.log(`  --validation-only: guard ${JSON.stringify(rec.rerankerSummary?.guard)}; the test split is not ranked`);
  else {
    rows.push(await measure('ensemble (tuned linear)', weightedRanker(rec, rec.strategyWeights), split));
    rows.push(await measure('ensemble (reranked)', ensembleRanker(rec, { list: 'all' }), split));
  }
  const lists: Row[] = [];
  const nextBasketLike = !validationOnly && !noLists && split.queries.some((q) => q.repeat !== undefined);
  if (nextBasketLike) {
    lists.push(await measure('P-TopFreq (reference)', topFreqRanker(split.train, false), split));
    lists.push(await measure('buy-again (linear)', ensembleRanker(rec, { list: 'buy-again', combiner: 'linear' }), split));
    lists.push(await measure('buy-again (reranked)', ensembleRanker(rec, { list: 'buy-again' }), split));
    let tifu: IndexRanker;
    if (rec.strategyNames.includes('tifuknn')) tifu = strategyRanker(rec.strategy('tifuknn'), split.train.nItems);
    else {
      const t = new TIFUKNN();
      await t.fit(split.train, { seed });
      tifu = strategyRanker(t, split.train.nItems);
    }
    lists.push(await measure('TIFU-KNN alone (reference)', tifu, split));
    lists.push(await measure('discover (linear)', ensembleRanker(rec, { list: 'discover', combiner: 'linear' }), split));
    lists.push(await measure('discover (reranked)', ensembleRanker(rec, { list: 'discover' }), split));
  }
  let transferRows: Row[] | null = null;
  if (transfer !== null && id.startsWith('P4') && !validationOnly) {
    const size = id === 'P4-small' ? [2000, 1500] : [20000, 5000];
    console.log(`  transfer: the shop of seed ${transfer}, strategies and a reranker fitted there, and the trees of seed ${seed}`);
    const other = nextBasket(syntheticDataset(size[0], size[1], transfer));
    const recB = await fitBoth(other, id, transfer);
    transferRows = [
      await measure(`seed ${transfer}: tuned linear`, weightedRanker(recB, recB.strategyWeights), other),
      await measure(`seed ${transfer}: reranked, own trees`, ensembleRanker(recB, { list: 'all' }), other),
    ];
    // A forest the guard did not let through ranks nothing: each shop's forest, where used,
    // is tried on the other shop.
    if (rec.reranker !== null) transferRows.push(await measure(`seed ${transfer}: reranked, trees of seed ${seed}`, foreignForest(recB, rec.reranker), other));
    else console.log(`  the seed-${seed} forest is not used (${rec.rerankerSummary?.reason}): nothing to carry to seed ${transfer}`);
    if (recB.reranker !== null) transferRows.push(await measure(`seed ${seed}: reranked, trees of seed ${transfer}`, foreignForest(rec, recB.reranker), split));
  }
  const result = {
    protocol: id,
    title: spec.title,
    command: `npx tsx benchmarks/reranker-quality.ts ${args.join(' ')}`.trim(),
    seed,
    without,
    date: new Date().toISOString().slice(0, 10),
    machine: machine(),
    validationOnly,
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    split: split.stats,
    tuning: rec.tuning ?? { from: weightsFrom, weights: rec.strategyWeights, normalization: rec.normalization },
    reranker: rec.rerankerSummary,
    importance: rec.reranker?.importance().slice(0, 12) ?? null,
    fitSeconds: rec.fitSeconds,
    rows,
    lists,
    transfer: transferRows,
    seconds: (performance.now() - started) / 1000,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `reranker-${id}${without.length ? '-lite' : ''}${tag ? `-${tag}` : ''}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`  wrote ${file}`);
}

/** Markdown tables of every benchmarks/results/reranker-*.json (for docs/reranker.md). */
async function table(): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  const files = (await readdir(RESULTS_DIR)).filter((f) => /^reranker-P.*\.json$/.test(f)).sort();
  const f4 = (x: number | undefined | null) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(4));
  const ensemble = ['| protocol | strategies | linear NDCG@10 | reranked NDCG@10 | linear R@10 | reranked R@10 | linear R@20 | reranked R@20 | trees kept | training queries | command |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  const lists = ['| protocol | P-TopFreq rep R@10 | buy-again rep R@10 (linear / reranked) | TIFU-KNN expl R@10 | discover expl R@10 (linear / reranked) |', '|---|---|---|---|---|'];
  const transfers: string[] = [];
  for (const f of files) {
    const r = JSON.parse(await readFile(join(RESULTS_DIR, f), 'utf8'));
    if (r.validationOnly) continue; // no test rows: a feature or option choice on the guard
    const [lin, rer] = r.rows as Row[];
    const strategies = `${Object.keys(r.fitSeconds).filter((n) => !['tuning', 'reranker', 'fallback'].includes(n)).length}${r.without.length ? ` (without ${r.without.join(', ')})` : ''}`;
    ensemble.push(`| ${r.protocol} | ${strategies} | ${f4(lin.ndcg10)} | ${f4(rer.ndcg10)} | ${f4(lin.recall10)} | ${f4(rer.recall10)} | ${f4(lin.recall20)} | ${f4(rer.recall20)} | ${r.reranker?.training?.treesKept ?? 'not trained'} | ${r.reranker?.usableQueries ?? '-'} | \`${r.command}\` |`);
    const by = (name: string) => (r.lists as Row[]).find((x) => x.name === name);
    if (r.lists.length) {
      lists.push(`| ${r.protocol} | ${f4(by('P-TopFreq (reference)')?.repeat10)} | ${f4(by('buy-again (linear)')?.repeat10)} / ${f4(by('buy-again (reranked)')?.repeat10)} | ${f4(by('TIFU-KNN alone (reference)')?.explore10)} | ${f4(by('discover (linear)')?.explore10)} / ${f4(by('discover (reranked)')?.explore10)} |`);
    }
    if (r.transfer) for (const t of r.transfer as Row[]) transfers.push(`| ${r.protocol} | ${t.name} | ${f4(t.ndcg10)} | ${f4(t.recall10)} | ${f4(t.recall20)} |`);
  }
  console.log([...ensemble, '', ...lists, '', '| protocol | run | NDCG@10 | R@10 | R@20 |', '|---|---|---|---|---|', ...transfers].join('\n'));
}

(async () => {
  if (args.includes('--table')) return table();
  for (const id of ids.length ? ids : ['P4-small']) await run(id);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
