/**
 * Turns benchmarks/results/*.json into docs/benchmarks.md (quality tables per protocol, P5
 * rules, speed tables). Every table states the command that reproduces it.
 *
 *   npx tsx benchmarks/report.ts
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, type Machine } from './machine';
import type { ProtocolResult, ResultRow } from './quality';

const here = fileURLToPath(new URL('.', import.meta.url));
const RESULTS = join(here, 'results');
const OUT = resolve(here, '../docs/benchmarks.md');
const README = resolve(here, '../README.md');

const f4 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(4));
const fs1 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));

/** P6 (and any protocol reporting several cutoffs): next-basket columns at each K. */
function nextBasketTable(r: ProtocolResult): string {
  const ks = Object.keys(r.rows[0].byK ?? { 10: null });
  const head = ['method'];
  for (const k of ks) head.push(`R@${k}`, `NDCG@${k}`, `NDCG-full@${k}`, `PHR@${k}`, `R@${k} repeat`, `R@${k} explore`, `repeat share@${k}`);
  head.push('users', 'fit s');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of r.rows) {
    const name = row.name === 'ensemble (tuned)' ? '**ensemble (tuned)**' : row.name;
    const cells = [name];
    for (const k of ks) {
      const e = row.byK?.[k] ?? row;
      cells.push(f4(e.recall), f4(e.ndcg), f4(e.ndcgFull), f4(e.hitRate), f4(e.recallRepeat), f4(e.recallExplore), f4(e.repeatShare));
    }
    cells.push(String(row.evaluated), fs1(row.fitSeconds));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function qualityTable(r: ProtocolResult): string {
  if (r.rows[0]?.byK) return nextBasketTable(r);
  const p4 = r.protocol.startsWith('P4');
  const head = ['method', 'P@10', 'R@10', 'MAP@10', 'NDCG@10', 'HitRate@10', 'Coverage@10', ...(p4 ? ['R@10 repeat', 'R@10 explore'] : []), 'users', 'fit s'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const bestSingle = Math.max(...r.rows.filter((x) => !x.name.startsWith('ensemble')).map((x) => x.ndcg));
  for (const row of r.rows) {
    const name = row.name === 'ensemble (tuned)' ? '**ensemble (tuned)**' : row.name;
    const ndcg = row.ndcg === bestSingle && !row.name.startsWith('ensemble') ? `${f4(row.ndcg)} (best single)` : f4(row.ndcg);
    const cells = [name, f4(row.precision), f4(row.recall), f4(row.map), ndcg, f4(row.hitRate), f4(row.coverage)];
    if (p4) cells.push(f4(row.recallRepeat), f4(row.recallExplore));
    cells.push(String(row.evaluated), fs1(row.fitSeconds));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Issue 8's goal per protocol: the tuned ensemble 5% above the best peer of the literature's
 * libraries (P1 EASE 0.1988, P2 ALS 0.2456, P3 co-occurrence 0.0569, P6 TIFU-KNN 0.2130).
 */
const GOALS: Record<string, number> = { P1: 0.209, P2: 0.258, P3: 0.06, P6: 0.224 };

/** The headline metric of a protocol: Recall@20 for P6 (as published), else NDCG@10. */
function headlineMetric(r: ProtocolResult): { label: string; of: (row: ResultRow) => number } {
  if (r.protocol === 'P6') return { label: 'Recall@20', of: (row) => row.byK?.['20']?.recall ?? NaN };
  return { label: 'NDCG@10', of: (row) => row.ndcg };
}

/** The strategy alone with the best headline metric (reference rows aside), and the tuned ensemble. */
function bestAndTuned(r: ProtocolResult): { best: ResultRow; tuned: ResultRow } {
  const { of } = headlineMetric(r);
  const singles = r.rows.filter((x) => !x.name.startsWith('ensemble') && !x.reference);
  const best = singles.reduce((a, b) => (of(b) > of(a) ? b : a));
  const tuned = r.rows.find((x) => x.name === 'ensemble (tuned)')!;
  return { best, tuned };
}

function protocolSection(r: ProtocolResult): string {
  const { best, tuned } = bestAndTuned(r);
  const { label, of } = headlineMetric(r);
  const delta = of(tuned) - of(best);
  const verdict =
    delta > 0
      ? `The tuned ensemble beats the best single strategy (${best.name}) on ${label} by ${f4(delta)} (${((100 * delta) / of(best)).toFixed(1)}%).`
      : `The tuned ensemble does **not** beat the best single strategy (${best.name}) on ${label}: ${f4(of(tuned))} vs ${f4(of(best))} (${f4(delta)}).`;
  const t = r.tuning;
  const weights = t ? Object.entries(t.weights).map(([n, w]) => `${n} ${Number(w.toFixed(3))}`).join(', ') : 'n/a';
  const where = r.namedValidation ? `the protocol's own validation users, beside the test users on the same training data` : `a ${t?.protocol} validation split carved from the training data`;
  const equalNorm = equalNormalization(r);
  const shrink = t?.shrinkage
    ? t.shrinkage.folds > 0
      ? ` Weights pulled toward equal ones by factor ${t.shrinkage.factor}, chosen by ${t.shrinkage.folds}-fold cross-validation over the validation queries (held-out ${t.metric}@${t.k} of factor 0, i.e. the searched weights: ${t.shrinkage.tried.filter((x) => x.factor === 0).map((x) => `${x.normalization} ${f4(x.score)}`).join(', ')}; of the chosen: ${f4(t.shrinkage.tried.find((x) => x.factor === t.shrinkage!.factor && x.normalization === t.normalization)!.score)}; of equal weights (${equalNorm}): ${f4(t.shrinkage.tried.find((x) => x.factor === 1 && x.normalization === equalNorm)?.score ?? NaN)}).`
      : ` Weights pulled toward equal ones by the given factor ${t.shrinkage.factor}.`
    : '';
  const goal = GOALS[r.protocol];
  const goalLine =
    goal === undefined ? '' : of(tuned) >= goal ? `Goal (issue 8): ${label} >= ${goal.toFixed(3)}: met (${f4(of(tuned))}).` : `Goal (issue 8): ${label} >= ${goal.toFixed(3)}: **missed** by ${f4(goal - of(tuned))} (${f4(of(tuned))}).`;
  const hp = t?.hyperparameters
    ? `Hyper-parameters searched on the same validation split (tune.hyperparameters): ${Object.entries(t.hyperparameters)
        .map(([n, h]) => `${n} ${Object.keys(h.chosen).length ? JSON.stringify(h.chosen) : 'kept its options'} (${t.metric}@${t.k} alone ${f4(h.given)} -> ${f4(h.score)}, ${h.tried.length} variants)`)
        .join('; ')}.`
    : '';
  return [
    `## ${r.title}`,
    '',
    `Data: ${r.dataset}. Split: ${JSON.stringify(r.split)}.`,
    '',
    qualityTable(r),
    '',
    verdict,
    goalLine,
    t
      ? `Tuned on ${where} (${t.queries} queries, ${t.trials} trials, ${t.metric}@${t.k}): weights ${weights}; normalization ${t.normalization}. Validation ${t.metric}@${t.k}: equal weights ('auto') ${f4(t.baseline)}, tuned ${f4(t.score)}.${shrink} The "ensemble (equal)" row ranks with normalization ${equalNorm}${equalNorm === t.normalization ? ", the tuned row's" : ` (written before the equal row followed the tuned row's normalization, here ${t.normalization})`}.${r.recency ? ` Every strategy is fitted on interactions weighted by recency (recencyWeighted ${JSON.stringify(r.recency)}), validation carve and test training data alike.` : ''}`
      : '',
    hp,
    ...r.notes.map((n) => `- ${n}`),
    '',
    `Reproduce: \`${r.command}\` (seed ${r.seed}; ${describeMachine(r.machine)}; ${r.date}).`,
    '',
  ].join('\n');
}

/**
 * The normalization of a result's "ensemble (equal)" row: recorded since stop 22; before, the
 * harness ranked it with the recommender's own, which is the tuned one after `weights: 'tune'`
 * and 'auto' when the harness searched the weights (named validation queries, folds).
 */
function equalNormalization(r: ProtocolResult): string {
  if (r.equalNormalization !== undefined) return r.equalNormalization;
  return r.namedValidation || r.validationFolds ? 'auto' : (r.tuning?.normalization ?? 'auto');
}

/** Kendall's tau between two orders of the same names (1: the same order, -1: reversed). */
function kendallTau(a: string[], b: string[]): number {
  const at = new Map(b.map((n, i) => [n, i]));
  const names = a.filter((n) => at.has(n));
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if (at.get(names[i])! < at.get(names[j])!) concordant++;
      else discordant++;
    }
  }
  const pairs = concordant + discordant;
  return pairs === 0 ? 1 : (concordant - discordant) / pairs;
}

/** The same protocol under other split seeds: headline metric per method and seed, and whether the ranking holds. */
function seedSection(quality: ProtocolResult[], seeds: ProtocolResult[]): string[] {
  const out: string[] = [];
  for (const id of [...new Set(seeds.map((s) => s.protocol))]) {
    const runs = [quality.find((q) => q.protocol === id), ...seeds.filter((s) => s.protocol === id).sort((a, b) => a.seed - b.seed)].filter((x): x is ProtocolResult => x !== undefined);
    const { label, of } = headlineMetric(runs[0]);
    const names = runs[0].rows.map((r) => r.name);
    const order = (run: ProtocolResult) => [...run.rows].sort((a, b) => of(b) - of(a)).map((r) => r.name);
    const rank = (run: ProtocolResult, name: string) => order(run).indexOf(name) + 1;
    const rows = names.map((n) => [n, ...runs.map((run) => {
      const row = run.rows.find((r) => r.name === n);
      return row ? `${f4(of(row))} (#${rank(run, n)})` : '–';
    })]);
    const top = runs.map((run) => order(run).slice(0, 3).join(' > '));
    const tunedFirst = runs.every((run) => order(run)[0] === 'ensemble (tuned)');
    out.push(
      `## ${runs[0].title}: other split seeds`,
      '',
      `${label} (rank among the methods) per shuffle seed of the split; each run tunes on its own training data.`,
      '',
      table(['method', ...runs.map((r) => `seed ${r.seed}`)], rows),
      '',
      `Top three per seed: ${top.map((t, i) => `seed ${runs[i].seed}: ${t}`).join('; ')}. ${tunedFirst ? 'The tuned ensemble is first on every seed.' : 'The tuned ensemble is not first on every seed.'}`,
      '',
      `Does the ranking of methods hold? Kendall's tau of each seed's order against seed ${runs[0].seed}'s: ${runs.slice(1).map((run) => `seed ${run.seed} ${kendallTau(order(runs[0]), order(run)).toFixed(2)}`).join(', ')} (1: the same order). ${(() => {
        const fixed = names.filter((n) => runs.every((run) => rank(run, n) === rank(runs[0], n)));
        return fixed.length === names.length ? 'Every method keeps its place on every seed.' : `In the same place on every seed: ${fixed.length ? fixed.map((n) => `${n} #${rank(runs[0], n)}`).join(', ') : 'none'}; the other methods change places.`;
      })()} The first five methods of each seed span ${runs.map((run) => { const top = [...run.rows].sort((a, b) => of(b) - of(a)); return `${f4(of(top[0]) - of(top[Math.min(4, top.length - 1)]))} (seed ${run.seed})`; }).join(', ')} of ${label}. Equal-weight rows' normalization: ${runs.map((run) => `seed ${run.seed} ${equalNormalization(run)}`).join(', ')}.`,
      '',
      `Reproduce: ${runs.map((r) => `\`${r.command}\``).join(', ')}.`,
      '',
    );
  }
  return out;
}

interface SpeedRow {
  [key: string]: unknown;
}

function genericTable(rows: SpeedRow[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]);
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4)))) : String(v ?? '–'));
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${keys.map((k) => fmt(r[k])).join(' | ')} |`)].join('\n');
}

// ----------------------------------------------------------------------- speed (speed.ts)

interface Latency {
  p50Ms: number;
  p99Ms: number;
  cpuP99Ms: number;
  meanTouched?: number;
}
interface SpeedResult {
  machine: Machine;
  loadAverage: { start: number[]; end: number[] };
  options: { users: number; products: number; queries: number; warmup: number; batch: number; ncfEpochs: number; seed: number };
  data: { users: number; items: number; baskets: number; lines: number; userItemNonzeros: number; csvBytes: number };
  loadSeconds: number;
  strategies: Record<string, { fitSeconds: number; fitCpuSeconds: number; fitPeakRssBytes: number; latency: Latency }>;
  fallback: { fitSeconds: number; latency: Latency } | null;
  ensemble: {
    recommend: Latency;
    recommendExplain: Latency;
    completeBasket: Latency;
    loadedRecommend: Latency;
    batch: { users: number; seconds: number; usersPerSecond: number };
    artifact: { bytes: number; saveSeconds: number; loadSeconds: number; identical: boolean };
  } | null;
  ncf: { epochs: number; fitSeconds: number; peakRssBytes: number; alone: Latency; recommend: Latency; artifactBytes: number } | null;
  peakRssBytes: number;
  targets: Array<{ target: string; value: string; met: boolean }>;
}

const ms3 = (x: number) => x.toFixed(3);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function speedSection(r: SpeedResult): string {
  const { users, products } = r.options;
  const command = `NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/speed.ts --users ${users} --products ${products}${r.options.ncfEpochs !== 1 ? ` --ncf-epochs ${r.options.ncfEpochs}` : ''}`;
  const d = r.data;
  const strategyRows = Object.entries(r.strategies).map(([name, s]) => [
    name,
    fs1(s.fitSeconds),
    mib(s.fitPeakRssBytes),
    ms3(s.latency.p50Ms),
    ms3(s.latency.p99Ms),
    (s.latency.meanTouched ?? 0).toFixed(0),
  ]);
  if (r.fallback) strategyRows.push(['fallback (popularity, whole catalog)', fs1(r.fallback.fitSeconds), '–', ms3(r.fallback.latency.p50Ms), ms3(r.fallback.latency.p99Ms), (r.fallback.latency.meanTouched ?? 0).toFixed(0)]);
  if (r.ncf) strategyRows.push([`ncf (${r.ncf.epochs} epoch${r.ncf.epochs === 1 ? '' : 's'})`, fs1(r.ncf.fitSeconds), mib(r.ncf.peakRssBytes), ms3(r.ncf.alone.p50Ms), ms3(r.ncf.alone.p99Ms), (r.ncf.alone.meanTouched ?? 0).toFixed(0)]);
  const parts = [
    `## Speed and memory: ${users.toLocaleString('en-US')} users x ${products.toLocaleString('en-US')} products (synthetic)`,
    '',
    `Data: ${d.baskets.toLocaleString('en-US')} orders, ${d.lines.toLocaleString('en-US')} order lines, ${d.userItemNonzeros.toLocaleString('en-US')} user-item pairs, ` +
      `written as Kaggle-format CSVs (${mib(d.csvBytes)}) and read back with \`loadInstacart\` in ${fs1(r.loadSeconds)} s.`,
    '',
    '### Each strategy: fit, and single-user scoring latency alone',
    '',
    `Latency = query + score + top-10, ${r.options.queries} users after ${r.options.warmup} warm-up calls; "items scored" is the mean number of items a query touched.`,
    '',
    table(['strategy', 'fit s', 'peak RSS during fit', 'p50 ms', 'p99 ms', 'items scored'], strategyRows),
  ];
  const e = r.ensemble;
  if (e) {
    parts.push(
      '',
      `### The ensemble of the non-neural strategies (${Object.keys(r.strategies).join(', ')})`,
      '',
      table(
        ['call', 'p50 ms', 'p99 ms', 'CPU p99 ms'],
        [
          ['recommend(user, { k: 10 })', e.recommend],
          ['recommend with explain', e.recommendExplain],
          ['recommend({ basket }) (3-item cart)', e.completeBasket],
          ['recommend after artifact load', e.loadedRecommend],
        ].map(([label, l]) => [label as string, ms3((l as Latency).p50Ms), ms3((l as Latency).p99Ms), ms3((l as Latency).cpuP99Ms)]),
      ),
      '',
      'CPU p99 is process CPU time per call: it also counts V8\'s parallel GC threads and the benchmark\'s RSS-sampling worker, so it can exceed wall time; wall time is what a caller waits.',
      '',
      `Batch: ${e.batch.usersPerSecond.toFixed(0)} users/s (recommendBatch of ${e.batch.users.toLocaleString('en-US')} users in ${fs1(e.batch.seconds)} s, one thread). ` +
        `Artifact: ${mib(e.artifact.bytes)}, save ${fs1(e.artifact.saveSeconds)} s, load from file ${fs1(e.artifact.loadSeconds)} s, identical recommendations after load: ${e.artifact.identical}.`,
    );
  }
  if (r.ncf) parts.push('', `NeuralCF (fitted separately, ${r.ncf.epochs} epoch): recommend p50 ${ms3(r.ncf.recommend.p50Ms)} ms, p99 ${ms3(r.ncf.recommend.p99Ms)} ms; its artifact ${mib(r.ncf.artifactBytes)}.`);
  parts.push(
    '',
    `Peak RSS of the whole process: ${mib(r.peakRssBytes)}.`,
    '',
    '### Targets',
    '',
    table(['target', 'measured', 'met'], r.targets.map((t) => [t.target, t.value, t.met ? 'yes' : '**no**'])),
    '',
    `Reproduce: \`${command}\` (seed ${r.options.seed}; ${describeMachine(r.machine)}; load average ${r.loadAverage.start[0].toFixed(1)} at start, ${r.loadAverage.end[0].toFixed(1)} at end).`,
    '',
  );
  return parts.join('\n');
}

/** The README's headline: per protocol the best single strategy against the tuned ensemble, and the speed at scale. */
export function headline(quality: ProtocolResult[], speed: SpeedResult[], rules: { tables?: Record<string, SpeedRow[]> } | null): string {
  const rows = quality.map((r) => {
    const { best, tuned } = bestAndTuned(r);
    const { label, of } = headlineMetric(r);
    const goal = GOALS[r.protocol];
    const goalCell = goal === undefined ? '–' : `${goal.toFixed(3)} ${of(tuned) >= goal ? 'met' : `missed by ${f4(goal - of(tuned))}`}`;
    return [r.title, `${best.name} ${f4(of(best))} (${label})`, `**${f4(of(tuned))}**`, goalCell, `${f4(best.recall)} / ${f4(tuned.recall)}`, `\`${r.command}\``];
  });
  const parts = [table(['protocol', 'best single strategy', 'tuned ensemble', 'goal', 'R@10 best single / ensemble', 'reproduce'], rows)];
  const p5 = Object.values(rules?.tables ?? {})[0];
  if (p5) {
    const counts = p5.map((r) => `${Number(r.rules).toLocaleString('en-US')} at confidence ${r['min confidence']} (arules ${Number(r['arules rules']).toLocaleString('en-US')}: ${r.match})`).join(', ');
    parts.push('', `P5, association rules on Groceries at support 0.001: ${counts} — \`npx tsx benchmarks/p5.ts\`.`);
  }
  for (const s of speed) {
    const e = s.ensemble;
    if (!e) continue;
    const fits = Object.entries(s.strategies).map(([n, x]) => `${n} ${fs1(x.fitSeconds)} s`).join(', ');
    parts.push(
      '',
      `At ${s.options.users.toLocaleString('en-US')} shoppers x ${s.options.products.toLocaleString('en-US')} products (${s.data.lines.toLocaleString('en-US')} order lines, synthetic): ` +
        `fit ${fits}; \`recommend()\` of the non-neural ensemble p50 ${ms3(e.recommend.p50Ms)} ms, p99 ${ms3(e.recommend.p99Ms)} ms; ` +
        `${e.batch.usersPerSecond.toFixed(0)} users/s in batch; peak RSS ${mib(s.peakRssBytes)}; artifact ${mib(e.artifact.bytes)} (${describeMachine(s.machine)}).`,
    );
  }
  // Speed lines name their own machine: result files of different stops can come from different VMs.
  parts.push('', `Quality measured on ${describeMachine(quality[0]?.machine ?? speed[0]?.machine)}.`);
  return parts.join('\n');
}

interface SideBySide {
  command: string;
  machine: Machine;
  date: string;
  rows?: Array<Record<string, unknown>>;
  foldIn?: Record<string, unknown>;
  inverse?: Array<Record<string, unknown>>;
  runs?: Array<Record<string, unknown>>;
  /** benchmarks/als-scale.ts: one row per thread count, ours and implicit's median fit seconds. */
  fit?: Array<Record<string, unknown>>;
  recommendUsersPerSecond?: { hybridrec: number; implicit: number; users: number };
  identicalAcrossThreads?: boolean;
  peakRssMb?: number;
  loadAverage1m?: { before: number; after: number };
}

const SIDE_TITLES: Record<string, string> = {
  'implicit-side-by-side.json': 'Side by side with implicit 0.7.3 (P1, P2; one thread each)',
  'dense-algebra.json': 'Dense algebra: src/util/spd.ts against ml-matrix',
  'als-scale.json': 'ALS fit at scale (synthetic)',
};

/** benchmarks/ensemble-ab.ts: this checkout's recommend path against a git revision on one saved model. */
interface EnsembleAb {
  machine: Machine;
  base: { rev: string };
  head: string;
  users: number;
  products: number;
  rounds: number;
  loadAverage: number[];
  table: Array<{ measure: string; base: number; new: number; ratio: number }>;
}

function abSection(d: EnsembleAb): string {
  const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4))));
  const rows = d.table.map((r) => [r.measure, num(r.base), num(r.new), r.ratio.toFixed(2)]);
  const load = `load average ${Math.min(...d.loadAverage).toFixed(1)} to ${Math.max(...d.loadAverage).toFixed(1)} on ${d.machine.cores} cores`;
  return [
    `## Recommend path side by side: ${d.head} against ${d.base.rev} (${d.users.toLocaleString('en-US')} x ${d.products.toLocaleString('en-US')})`,
    '',
    'Both checkouts load the same saved model and time the same shoppers, alternating in fresh processes; per side the median of the rounds. CPU time is the reading on a loaded machine.',
    '',
    table(['measure', d.base.rev, d.head, 'ratio'], rows),
    '',
    `Reproduce: \`NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/ensemble-ab.ts --base ${d.base.rev} --users ${d.users} --products ${d.products} --rounds ${d.rounds}\` (${describeMachine(d.machine)}; ${load}).`,
    '',
  ].join('\n');
}

/** benchmarks/ensemble-batch.ts: recommendBatch on 1 and 2 threads against recommend() per user, P1/P2. */
interface EnsembleBatch {
  title: string;
  command: string;
  date: string;
  rev: string;
  machine: Machine;
  loadAverage: { min: number; max: number };
  tables: Record<string, SpeedRow[]>;
  notes: string[];
}

/** The issue 13 goal for the non-neural ensemble's batch recommend on P1/P2. */
const BATCH_GOAL_USERS_PER_SECOND = 15_000;

function ensembleBatchSection(d: EnsembleBatch): string {
  const parts = [`## ${d.title}`, ''];
  for (const [name, rows] of Object.entries(d.tables)) parts.push(`### ${name}`, '', genericTable(rows), '');
  const best = new Map<string, number>();
  for (const r of d.tables.throughput ?? []) best.set(String(r.protocol), Math.max(best.get(String(r.protocol)) ?? 0, Number(r['users/s (wall)'])));
  const goal = [...best].map(([p, v]) => `${p} ${v.toLocaleString('en-US')} users/s (${v >= BATCH_GOAL_USERS_PER_SECOND ? 'met' : `missed, ${(BATCH_GOAL_USERS_PER_SECOND / v).toFixed(1)}x short`})`);
  parts.push(`Goal (issue 13): at least ${BATCH_GOAL_USERS_PER_SECOND.toLocaleString('en-US')} users/s wall on P1 and P2. Best way in this run: ${goal.join(', ')}; wall time is only meaningful at a low load average.`, '');
  for (const n of d.notes) parts.push(`- ${n}`);
  parts.push('', `Reproduce: \`${d.command}\` (${describeMachine(d.machine)}; ${d.date}, git ${d.rev}, load average ${d.loadAverage.min.toFixed(1)} to ${d.loadAverage.max.toFixed(1)}).`, '');
  return parts.join('\n');
}

function sideBySideSection(file: string, d: SideBySide): string {
  const parts = [`## ${SIDE_TITLES[file]}`, ''];
  if (d.rows) parts.push(genericTable(d.rows as SpeedRow[]), '');
  if (d.foldIn) parts.push(`Fold-in solve: ${genericTable([d.foldIn as SpeedRow])}`, '');
  if (d.inverse) parts.push(genericTable(d.inverse as SpeedRow[]), '');
  if (d.runs) parts.push(genericTable(d.runs as SpeedRow[]), '');
  if (d.fit) parts.push(genericTable(d.fit as SpeedRow[]), '');
  if (d.recommendUsersPerSecond) {
    const r = d.recommendUsersPerSecond;
    parts.push(`Recommend for ${r.users.toLocaleString('en-US')} users: hybridrec ${Math.round(r.hybridrec).toLocaleString('en-US')} users/s, implicit ${Math.round(r.implicit).toLocaleString('en-US')} users/s.`, '');
  }
  if (d.identicalAcrossThreads !== undefined) parts.push(`Factors identical for every thread count: ${d.identicalAcrossThreads}. Peak RSS ${Math.round(d.peakRssMb ?? 0)} MiB.`, '');
  const load = d.loadAverage1m ? `; load average ${d.loadAverage1m.before} at start, ${d.loadAverage1m.after} at end` : '';
  parts.push(`Reproduce: \`${d.command}\` (${describeMachine(d.machine)}; ${d.date}${load}).`, '');
  return parts.join('\n');
}

async function main(): Promise<void> {
  const files = existsSync(RESULTS) ? (await readdir(RESULTS)).filter((f) => f.endsWith('.json')).sort() : [];
  const quality: ProtocolResult[] = [];
  const seeds: ProtocolResult[] = [];
  const other: Array<{ file: string; data: { title?: string; command?: string; machine?: Machine; tables?: Record<string, SpeedRow[]>; notes?: string[] } }> = [];
  for (const f of files) {
    const data = JSON.parse(await readFile(join(RESULTS, f), 'utf8'));
    // benchmarks/quality.ts results are named after their protocol (P1.json, P3-seed7.json); other scripts' files (sequential-*.json) are not protocol tables.
    if (/^P\d/.test(f) && Array.isArray(data.rows) && data.split && typeof data.protocol === 'string') (typeof data.seed === 'number' && data.seed !== 42 ? seeds : quality).push(data);
    else other.push({ file: f, data });
  }
  const order = ['P1', 'P2', 'P3', 'P4-small', 'P4-large', 'P6'];
  quality.sort((a, b) => order.indexOf(a.protocol) - order.indexOf(b.protocol));
  const parts = [
    '# Benchmarks',
    '',
    'Generated by `npx tsx benchmarks/report.ts` from `benchmarks/results/*.json`; do not edit by hand.',
    'Protocols (splits, metrics, tie-breaks) are defined in [evaluation.md](evaluation.md). Every',
    'method is fitted once per protocol; "alone" rows rank with one strategy plus the same popularity',
    'filler the ensemble uses when it has fewer than 10 candidates. "ensemble (equal)" weighs every',
    'strategy 1 under the tuned row\'s normalization (each table says which); "ensemble (tuned)" uses weights chosen on a validation split of the training data',
    'only, or (P6) on the protocol\'s own validation users. Fit seconds are wall-clock on the machine',
    'named under each table (a shared machine: they vary with its load).',
    '',
    ...quality.map(protocolSection),
    ...seedSection(quality, seeds),
  ];
  for (const { file, data } of other) {
    if (file.startsWith('speed-')) {
      parts.push(speedSection(data as unknown as SpeedResult));
      continue;
    }
    if (file.startsWith('tune-') || file.startsWith('sequential-')) continue; // validation grids and the sequential model's runs: cited from docs/strategies.md
    if (file.startsWith('ensemble-ab-')) {
      parts.push(abSection(data as unknown as EnsembleAb));
      continue;
    }
    if (file.startsWith('ensemble-batch-')) {
      parts.push(ensembleBatchSection(data as unknown as EnsembleBatch));
      continue;
    }
    if (file === 'implicit-side-by-side.json' || file === 'dense-algebra.json' || file === 'als-scale.json') {
      parts.push(sideBySideSection(file, data as unknown as SideBySide));
      continue;
    }
    parts.push(`## ${data.title ?? file}`, '');
    for (const [name, rows] of Object.entries(data.tables ?? {})) parts.push(`### ${name}`, '', genericTable(rows), '');
    for (const n of data.notes ?? []) parts.push(`- ${n}`);
    if (data.command) parts.push('', `Reproduce: \`${data.command}\`${data.machine ? ` (${describeMachine(data.machine)})` : ''}.`, '');
  }
  await writeFile(OUT, `${parts.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`);
  const readme = await readFile(README, 'utf8');
  const start = '<!-- headline:start -->';
  const end = '<!-- headline:end -->';
  if (readme.includes(start) && readme.includes(end)) {
    const speed = other.filter((o) => o.file.startsWith('speed-')).map((o) => o.data as unknown as SpeedResult);
    const body = headline(quality, speed, other.find((o) => o.file === 'P5.json')?.data ?? null);
    await writeFile(README, readme.slice(0, readme.indexOf(start) + start.length) + `\n${body}\n` + readme.slice(readme.indexOf(end)));
  }
  console.log(`wrote ${OUT} (${quality.length} quality protocols, ${other.length} other result files)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
