/** What each `hybridrec` command does, given its parsed flags (index.ts wires them to commander). */
import { LIBRARY_VERSION } from '../ensemble/persist';
import { HybridRecommender, basketCompletion, ensembleRanker, evaluate, strategyRanker, holdoutTemporal, nextBasket, type EvalResult, type IndexRanker, type Split } from '../index';
import { loadArtifactFile, saveArtifactFile } from '../node';
import { OptionError } from '../errors';
import { annotateArtifact, appendRun, describeData, findRun, modelSummary, readRuns, runId, sha256, type RunRecord } from '../node/runs';
import { ServingModel, type ShopperInput } from '../server/model';
import type { Recommendation } from '../ensemble/hybrid';
import { loadData, type DataFlags } from './data';
import { formatNumber, table } from './format';
import { formatSummary, summarizeArtifact } from './inspect';
import { progressBars } from './progress';
import { strategiesFrom, weightsFrom } from './strategies';

/** Where a command writes: stdout for results, stderr for progress and notes (so --json output pipes cleanly). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  signal: AbortSignal;
  argv: string[];
}

export interface FitFlags extends DataFlags {
  out: string;
  strategies: string;
  weights: string;
  seed: number;
  runs?: string;
  quiet?: boolean;
  /** Write a serving artifact (save({ customerData: false })). */
  serving?: boolean;
}

export async function fitCommand(flags: FitFlags, io: Io): Promise<void> {
  const started = new Date();
  const bars = progressBars({ quiet: flags.quiet });
  const timings: Record<string, number> = {};
  let t = performance.now();
  try {
    const data = await loadData(flags, bars.onProgress, io.signal);
    timings.load = (performance.now() - t) / 1000;
    const rec = new HybridRecommender({ strategies: strategiesFrom(flags.strategies), weights: weightsFrom(flags.weights) });
    t = performance.now();
    await rec.fit(data.dataset, { seed: flags.seed, onProgress: bars.onProgress, signal: io.signal });
    timings.fit = (performance.now() - t) / 1000;
    for (const [stage, s] of Object.entries(rec.fitSeconds)) timings[`fit/${stage}`] = s;
    bars.stop();
    t = performance.now();
    const summary = describeData(data.dataset, data.source);
    const { fingerprint, source, ...sizes } = summary;
    const bytes = annotateArtifact(rec.save({ customerData: !flags.serving }), 'fit', {
      fittedAt: started.toISOString(),
      source,
      fingerprint,
      data: sizes,
      seed: flags.seed,
      seconds: timings,
    });
    await saveArtifactFile(flags.out, bytes);
    timings.save = (performance.now() - t) / 1000;
    const digest = sha256(bytes);
    io.err(`wrote ${flags.out} (${(bytes.byteLength / 1024).toFixed(0)} KiB, sha256 ${digest.slice(0, 12)}) in ${timings.fit.toFixed(1)} s of fitting`);
    if (rec.tuning) io.err(`tuned weights: ${Object.entries(rec.tuning.weights).map(([n, w]) => `${n} ${w}`).join(', ')} (${rec.tuning.metric}@${rec.tuning.k} ${rec.tuning.score.toFixed(4)} on the validation split, equal weights ${rec.tuning.baseline.toFixed(4)})`);
    if (flags.runs) {
      const model = modelSummary(bytes);
      const record: RunRecord = {
        id: runId('fit', started),
        kind: 'fit',
        startedAt: started.toISOString(),
        libraryVersion: LIBRARY_VERSION,
        node: process.version,
        command: io.argv,
        data: summary,
        strategies: model.strategies,
        weights: model.weights,
        timings,
        metrics: model.tuning ? { tuning: model.tuning } : null,
        protocol: null,
        k: null,
        model: { path: flags.out, sha256: digest, bytes: bytes.byteLength },
      };
      io.err(`run ${record.id} recorded in ${await appendRun(flags.runs, record)}`);
    }
  } finally {
    bars.stop();
  }
}

export interface QueryFlags {
  k: number;
  explain?: boolean;
  json?: boolean;
}

async function openModel(path: string): Promise<ServingModel> {
  return ServingModel.load(await loadArtifactFile(path));
}

function printList(items: Recommendation[], flags: QueryFlags, io: Io): void {
  if (flags.json) return io.out(JSON.stringify({ items }, null, 2));
  const rows = items.map((r, i) => [i + 1, r.item, r.name, r.score, ...(flags.explain ? [r.reason ?? ''] : [])]);
  io.out(table(['#', 'item', 'name', 'score', ...(flags.explain ? ['why'] : [])], rows));
}

const list = (text: string | undefined) => (text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean));

export async function recommendCommand(model: string, flags: QueryFlags & { user?: string; history?: string; basket?: string }, io: Io): Promise<void> {
  const history = list(flags.history);
  const basket = list(flags.basket);
  if (flags.user === undefined && history === undefined && basket === undefined) throw new OptionError('recommend', 'give --user <id>, --history <ids> or --basket <ids>');
  const shopper: ShopperInput =
    history === undefined && basket === undefined ? flags.user! : { ...(flags.user !== undefined ? { user: flags.user } : {}), ...(history ? { history } : {}), ...(basket ? { basket } : {}) };
  const m = await openModel(model);
  printList(JSON.parse(await m.run({ op: 'recommend', shopper, options: { k: flags.k, explain: flags.explain ?? false } })).items, flags, io);
}

export async function similarCommand(model: string, item: string, flags: QueryFlags, io: Io): Promise<void> {
  const m = await openModel(model);
  printList(JSON.parse(await m.run({ op: 'similar', item, options: { k: flags.k, explain: flags.explain ?? false } })).items, flags, io);
}

export async function completeBasketCommand(model: string, items: string[], flags: QueryFlags & { user?: string }, io: Io): Promise<void> {
  const m = await openModel(model);
  const shopper: ShopperInput = { basket: items, ...(flags.user !== undefined ? { user: flags.user } : {}) };
  printList(JSON.parse(await m.run({ op: 'recommend', shopper, options: { k: flags.k, explain: flags.explain ?? false } })).items, flags, io);
}

export async function inspectCommand(model: string, flags: { json?: boolean }, io: Io): Promise<void> {
  const summary = summarizeArtifact(await loadArtifactFile(model), model);
  io.out(flags.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
}

export const PROTOCOLS = ['next-basket', 'temporal', 'basket-completion'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export interface EvaluateFlags extends DataFlags {
  protocol: ProtocolName;
  k: number;
  strategies: string;
  weights: string;
  seed: number;
  maxQueries?: number;
  runs?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The split of docs/evaluation.md for `protocol`. */
function splitFor(protocol: ProtocolName, data: Awaited<ReturnType<typeof loadData>>, seed: number): Split {
  if (protocol === 'next-basket') return nextBasket(data.dataset);
  if (protocol === 'basket-completion') return basketCompletion(data.dataset, seed);
  if (!data.rows || !data.rows.time) throw new OptionError('--protocol', 'temporal holdout (P1) needs interaction rows with timestamps: --csv <file> with --time-col <column>');
  return holdoutTemporal(data.rows);
}

/** Each strategy alone (with the same fallback filler) and the ensemble, on one fit. */
function rankers(rec: HybridRecommender): Array<[string, IndexRanker]> {
  return [...rec.strategyNames.map((n): [string, IndexRanker] => [n, strategyRanker(rec, n)]), ['ensemble', ensembleRanker(rec)]];
}

const METRICS = ['precision', 'recall', 'map', 'ndcg', 'hitRate', 'coverage', 'recallRepeat', 'recallExplore'] as const;

export async function evaluateCommand(flags: EvaluateFlags, io: Io): Promise<void> {
  const started = new Date();
  const bars = progressBars({ quiet: flags.quiet });
  const timings: Record<string, number> = {};
  const results: Record<string, Record<string, number>> = {};
  let split: Split;
  let rec: HybridRecommender;
  let source: ReturnType<typeof describeData>;
  try {
    let t = performance.now();
    const data = await loadData(flags, bars.onProgress, io.signal);
    split = splitFor(flags.protocol, data, flags.seed);
    source = describeData(data.dataset, data.source);
    timings.load = (performance.now() - t) / 1000;
    rec = new HybridRecommender({ strategies: strategiesFrom(flags.strategies), weights: weightsFrom(flags.weights) });
    t = performance.now();
    await rec.fit(split.train, { seed: flags.seed, onProgress: bars.onProgress, signal: io.signal });
    timings.fit = (performance.now() - t) / 1000;
    for (const [name, ranker] of rankers(rec)) {
      const r: EvalResult = await evaluate(ranker, split, { k: flags.k, users: flags.maxQueries, signal: io.signal, onProgress: (p) => bars.onProgress({ ...p, stage: `evaluate ${name}` }) });
      timings[`evaluate/${name}`] = r.seconds;
      const row: Record<string, number> = { evaluated: r.evaluated };
      for (const m of METRICS) if (typeof r[m] === 'number') row[m] = r[m] as number;
      results[name] = row;
    }
  } finally {
    bars.stop();
  }
  if (flags.json) {
    io.out(JSON.stringify({ protocol: flags.protocol, k: flags.k, queries: split.queries.length, metrics: results }, null, 2));
  } else {
    const columns = METRICS.filter((m) => Object.values(results).some((r) => m in r));
    io.out(`${flags.protocol} (${split.protocol}) @${flags.k}, ${results.ensemble.evaluated.toLocaleString('en-US')} queries evaluated; each strategy alone gets the same fallback filler:`);
    io.out(table(['ranker', ...columns.map((c) => `${c}@${flags.k}`)], Object.entries(results).map(([name, r]) => [name, ...columns.map((c) => r[c] ?? NaN)])));
  }
  if (flags.runs) {
    const model = modelSummary(rec.save());
    const record: RunRecord = {
      id: runId('evaluate', started),
      kind: 'evaluate',
      startedAt: started.toISOString(),
      libraryVersion: LIBRARY_VERSION,
      node: process.version,
      command: io.argv,
      data: source,
      strategies: model.strategies,
      weights: model.weights,
      timings,
      metrics: results,
      protocol: flags.protocol,
      k: flags.k,
      model: null,
    };
    io.err(`run ${record.id} recorded in ${await appendRun(flags.runs, record)}`);
  }
}

export async function runsListCommand(flags: { dir: string; json?: boolean }, io: Io): Promise<void> {
  const runs = await readRuns(flags.dir);
  if (flags.json) return io.out(JSON.stringify(runs, null, 2));
  if (runs.length === 0) return io.out(`no runs recorded in ${flags.dir}`);
  const headline = (r: RunRecord) => {
    if (r.kind === 'evaluate') return r.metrics?.ensemble ? `ensemble ndcg@${r.k} ${formatNumber(r.metrics.ensemble.ndcg)}` : '';
    return r.metrics?.tuning ? `tuning ${formatNumber(r.metrics.tuning.ensemble)}` : '';
  };
  io.out(
    table(
      ['#', 'id', 'kind', 'data', 'fingerprint', 'strategies', 'seconds', 'result'],
      runs.map((r, i) => [i + 1, r.id, r.kind + (r.protocol ? ` ${r.protocol}` : ''), r.data.source, r.data.fingerprint.slice(0, 12), Object.keys(r.strategies).join(','), (r.timings.fit ?? 0).toFixed(1), headline(r)]),
    ),
  );
}

/** Two runs side by side: what differs in data, options and weights, then timings and metrics. */
export async function runsCompareCommand(a: string, b: string, flags: { dir: string; json?: boolean }, io: Io): Promise<void> {
  const runs = await readRuns(flags.dir);
  const x = findRun(runs, a);
  const y = findRun(runs, b);
  const rows: Array<[string, string, string]> = [];
  const add = (label: string, u: unknown, v: unknown) => {
    const f = (w: unknown) => (w === undefined ? '-' : typeof w === 'number' ? formatNumber(w) : typeof w === 'string' ? w : JSON.stringify(w));
    rows.push([label, f(u), f(v)]);
  };
  add('id', x.id, y.id);
  add('kind', x.kind + (x.protocol ? ` ${x.protocol}@${x.k}` : ''), y.kind + (y.protocol ? ` ${y.protocol}@${y.k}` : ''));
  add('library', x.libraryVersion, y.libraryVersion);
  for (const key of ['source', 'fingerprint', 'users', 'items', 'interactions', 'baskets'] as const) add(`data.${key}`, x.data[key], y.data[key]);
  for (const name of union(Object.keys(x.strategies), Object.keys(y.strategies))) {
    add(`weight ${name}`, x.weights[name], y.weights[name]);
    const ox = flatten(x.strategies[name]?.options);
    const oy = flatten(y.strategies[name]?.options);
    const differ = union(Object.keys(ox), Object.keys(oy)).filter((key) => ox[key] !== oy[key]);
    const show = (o: Record<string, string>) => (differ.length === 0 ? 'same' : differ.map((key) => `${key}=${o[key] ?? '-'}`).join(' '));
    add(`options ${name}`, show(ox), show(oy));
  }
  for (const stage of union(Object.keys(x.timings), Object.keys(y.timings))) add(`seconds ${stage}`, x.timings[stage], y.timings[stage]);
  for (const ranker of union(Object.keys(x.metrics ?? {}), Object.keys(y.metrics ?? {}))) {
    for (const m of union(Object.keys(x.metrics?.[ranker] ?? {}), Object.keys(y.metrics?.[ranker] ?? {}))) add(`${ranker} ${m}`, x.metrics?.[ranker]?.[m], y.metrics?.[ranker]?.[m]);
  }
  add('model sha256', x.model?.sha256, y.model?.sha256);
  if (flags.json) return io.out(JSON.stringify({ a: x, b: y }, null, 2));
  io.out(table(['', 'A', 'B'], rows.map(([l, u, v]) => [l, u, v])));
}

/** A JSON value as dotted paths to its leaves ({ a: { b: 1 } } -> { "a.b": "1" }). */
function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${key}` : key, out);
  } else if (value !== undefined) {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}
