/**
 * Turns benchmarks/results/*.json into docs/benchmarks.md and the README's headline block:
 * first the protocol quality tables (P1-P6, each with its learned-reranker runs beside the tuned
 * linear ensemble; other split seeds; issue 9's reranker headline; P5 rules), then speed
 * (single-user, reranked, batch, fits, side by side with implicit, the HTTP server), then
 * experiments and A/B history, one heading per topic, newest run first. Each results file is
 * drawn by the renderer of the script that wrote it (benchmarks/report/*.ts), else by a numeric
 * summary of its JSON, so no file renders without figures; every section ends with the command
 * that reproduces it.
 *
 *   npx tsx benchmarks/report.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine } from './machine';
import type { ProtocolResult, ResultRow } from './quality';
import { ann } from './report/ann';
import { ensembleAb } from './report/ensemble-ab';
import { ensembleBatch } from './report/ensemble-batch';
import { numericSummary } from './report/fallback';
import { f4, fs1, mib, ms3, table, type Part, type Renderer, type ResultFile, type Section, type TableRow } from './report/format';
import { parallelSpeed } from './report/parallel-speed';
import { isRerankerRun, rerankerBlock, rerankerHeadline, type RerankerRun } from './report/reranker-quality';
import { rerankerFeaturesAb, rerankerShop, rerankerSpeed, rerankerXgboost } from './report/reranker-speed';
import { sequential } from './report/sequential';
import { serverLoad } from './report/server-load';
import { sideBySide } from './report/side-by-side';
import { isSpeedResult, speed as speedRenderer, type SpeedResult } from './report/speed';
import { tablesResult } from './report/tables';
import { twoTower } from './report/two-tower';

const here = fileURLToPath(new URL('.', import.meta.url));
const RESULTS = join(here, 'results');
const OUT = resolve(here, '../docs/benchmarks.md');
const README = resolve(here, '../README.md');

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

/** The README's headline: per protocol the best single strategy against the tuned ensemble, and the speed at scale. */
export function headline(quality: ProtocolResult[], speed: SpeedResult[], rules: { tables?: Record<string, TableRow[]> } | null): string {
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

/** One renderer per kind of results file, by the script that writes it; the first that matches draws the file. */
const RENDERERS: Renderer[] = [speedRenderer, ensembleAb, ensembleBatch, sideBySide, tablesResult, serverLoad, rerankerShop, rerankerSpeed, rerankerXgboost, rerankerFeaturesAb, twoTower, ann, parallelSpeed, sequential];

/**
 * Files the report leaves out on purpose: validation-only tuning evidence (weights, grids and
 * sweeps on splits carved from training, no test figure), cited from docs/strategies.md and
 * docs/evaluation.md where each choice is discussed.
 */
export const SKIPPED_PREFIXES = ['tune-'];

/** benchmarks/quality.ts results are named after their protocol (P1.json, P3-seed7.json); other scripts' P-files (P5.json) are not protocol tables. */
const isProtocolResult = (file: string, data: Record<string, unknown>) => /^P\d/.test(file) && Array.isArray(data.rows) && data.split !== undefined && typeof data.protocol === 'string';

const PROTOCOL_ORDER = ['P1', 'P2', 'P3', 'P4-small', 'P4-large', 'P6'];

/** Topic order within a part; topics not named here follow in alphabetical order, the numeric summaries last. */
export const TOPIC_ORDER: Record<Part, string[]> = {
  quality: ['P5 association rules, Groceries (R arules reference)'],
  speed: [
    'Speed and memory at scale: fits and single-user recommend (benchmarks/speed.ts)',
    'Reranked recommend at scale (benchmarks/reranker-shop.ts)',
    'Batch recommend (benchmarks/ensemble-batch.ts)',
    'Fits on 1 and 2 threads',
    'Side by side with implicit and ml-matrix',
    'HTTP server under load (benchmarks/server-load.ts)',
  ],
  experiments: [
    'Recommend path A/B against a git revision (benchmarks/ensemble-ab.ts)',
    'Reranked recommend A/B against a git revision (benchmarks/reranker-ab.ts)',
    'Fit A/B on 1 and 2 threads (benchmarks/fit-ab.ts)',
    'Reranker feature extraction A/B (benchmarks/reranker-features-ab.ts)',
    'Reranker: scoring speed and XGBoost side by side',
    'Two-tower model beside ALS, NeuralCF and content (benchmarks/two-tower.ts)',
    'Sequential next-basket model beside its baselines (benchmarks/sequential.ts)',
    'Vector indexes: recall and latency at 1M items (benchmarks/ann.ts)',
  ],
};

const PART_TITLES: Record<Part, string> = {
  quality: 'Quality: protocols P1-P6',
  speed: 'Speed: single-user, batch, fits, side by side, server',
  experiments: 'Experiments and A/B history',
};

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
}

export interface Report {
  markdown: string;
  /** Per results file, the Markdown its figures were drawn into (a reranker run: its own block). */
  byFile: Map<string, string>;
  quality: ProtocolResult[];
  speed: SpeedResult[];
  rules: { tables?: Record<string, TableRow[]> } | null;
}

/** Sections of one topic under its `##` heading, newest first. */
function topicBlock(topic: string, sections: Section[]): string {
  const sorted = [...sections].sort((a, b) => (a.date === b.date ? a.heading.localeCompare(b.heading) : a.date < b.date ? 1 : -1));
  return [`## ${topic}`, '', ...sorted.flatMap((s) => [`### ${s.heading}`, '', s.body, ''])].join('\n');
}

export function buildReport(results: ResultFile[]): Report {
  const quality: ProtocolResult[] = [];
  const seeds: ProtocolResult[] = [];
  const reranker: RerankerRun[] = [];
  const sections: Section[] = [];
  const byFile = new Map<string, string>();
  for (const result of results) {
    const { file, data } = result;
    if (SKIPPED_PREFIXES.some((p) => file.startsWith(p))) continue;
    if (isProtocolResult(file, data)) {
      const r = data as unknown as ProtocolResult;
      (typeof r.seed === 'number' && r.seed !== 42 ? seeds : quality).push(r);
      continue;
    }
    if (isRerankerRun(file, data)) {
      const run = { ...(data as unknown as RerankerRun), date: result.date };
      reranker.push(run);
      byFile.set(file, rerankerBlock([run]));
      continue;
    }
    const renderer = RENDERERS.find((r) => r.matches(file, data));
    const section = renderer ? renderer.render(result) : numericSummary(file, data, result.date);
    sections.push(section);
    byFile.set(file, [`### ${section.heading}`, '', section.body].join('\n'));
  }
  quality.sort((a, b) => PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol));

  const qualityParts: string[] = [];
  for (const q of quality) {
    const section = protocolSection(q);
    byFile.set(`${q.protocol}.json`, section);
    qualityParts.push(section);
    const runs = reranker.filter((r) => r.protocol === q.protocol);
    if (runs.length) qualityParts.push(`### ${q.protocol}: learned reranker against the tuned linear ensemble (benchmarks/reranker-quality.ts)`, '', rerankerBlock(runs), '');
  }
  for (const s of seeds) byFile.set(`${s.protocol}-seed${s.seed}.json`, seedSection(quality, [s]).join('\n'));
  const orphans = [...new Set(reranker.map((r) => r.protocol))].filter((p) => !quality.some((q) => q.protocol === p));
  for (const p of orphans) {
    const runs = reranker.filter((r) => r.protocol === p);
    qualityParts.push(`## ${runs[0].title}: learned reranker against the tuned linear ensemble (benchmarks/reranker-quality.ts)`, '', rerankerBlock(runs), '');
  }
  qualityParts.push(...seedSection(quality, seeds));
  if (reranker.length) qualityParts.push('## Learned reranker against the tuned linear ensemble (issue 9)', '', rerankerHeadline(reranker, PROTOCOL_ORDER), '');

  const byPart = (part: Part): string[] => {
    const topics = [...new Set(sections.filter((s) => s.part === part).map((s) => s.topic))];
    const rank = (t: string) => {
      const at = TOPIC_ORDER[part].indexOf(t);
      return at >= 0 ? at : t.startsWith('Other results') ? Number.MAX_SAFE_INTEGER : TOPIC_ORDER[part].length;
    };
    topics.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    return topics.map((t) => topicBlock(t, sections.filter((s) => s.part === part && s.topic === t)));
  };
  const body: Array<[Part, string[]]> = [
    ['quality', [...qualityParts, ...byPart('quality')]],
    ['speed', byPart('speed')],
    ['experiments', byPart('experiments')],
  ];
  const contents = body.flatMap(([part, blocks]) => {
    const headings = blocks.join('\n').split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3));
    return headings.length ? [`- **${PART_TITLES[part]}**`, ...headings.map((h) => `  - [${h}](#${anchor(h)})`)] : [];
  });
  const parts = [
    '# Benchmarks',
    '',
    'Generated by `npx tsx benchmarks/report.ts` from `benchmarks/results/*.json`; do not edit by hand.',
    'Protocols (splits, metrics, tie-breaks) are defined in [evaluation.md](evaluation.md). Every',
    'method is fitted once per protocol; "alone" rows rank with one strategy plus the same popularity',
    'filler the ensemble uses when it has fewer than 10 candidates. "ensemble (equal)" weighs every',
    "strategy 1 under the tuned row's normalization (each table says which); \"ensemble (tuned)\" uses weights chosen on a validation split of the training data",
    "only, or (P6) on the protocol's own validation users. Fit seconds are wall-clock on the machine",
    'named under each table (a shared machine: they vary with its load). Each section ends with the command that reproduces it;',
    'within a topic the newest run comes first.',
    '',
    ...contents,
    '',
    ...body.flatMap(([part, blocks]) => (blocks.length ? [`# ${PART_TITLES[part]}`, '', ...blocks] : [])),
  ];
  const rules = results.find((r) => r.file === 'P5.json')?.data ?? null;
  return {
    markdown: `${parts.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`,
    byFile,
    quality,
    speed: results.filter((r) => isSpeedResult(r.file)).map((r) => r.data as unknown as SpeedResult),
    rules: rules as { tables?: Record<string, TableRow[]> } | null,
  };
}

/** A file's date: its own `date` field, else the time of the last commit that wrote it, else (not committed yet) its modification time. */
function dateOf(path: string, data: Record<string, unknown>): string {
  if (typeof data.date === 'string') return data.date;
  try {
    const committed = execFileSync('git', ['log', '-1', '--format=%cI', '--', path], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (committed) return committed;
  } catch {
    // not a git checkout: the file's own time
  }
  return statSync(path).mtime.toISOString();
}

export async function readResults(dir = RESULTS): Promise<ResultFile[]> {
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.json')).sort() : [];
  return Promise.all(
    files.map(async (file) => {
      const data = JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>;
      return { file, data, date: dateOf(join(dir, file), data) };
    }),
  );
}

async function main(): Promise<void> {
  const results = await readResults();
  const report = buildReport(results);
  await writeFile(OUT, report.markdown);
  const readme = await readFile(README, 'utf8');
  const start = '<!-- headline:start -->';
  const end = '<!-- headline:end -->';
  if (readme.includes(start) && readme.includes(end)) {
    const body = headline(report.quality, report.speed, report.rules);
    await writeFile(README, readme.slice(0, readme.indexOf(start) + start.length) + `\n${body}\n` + readme.slice(readme.indexOf(end)));
  }
  console.log(`wrote ${OUT} (${results.length} results files: ${report.quality.length} quality protocols, ${report.byFile.size} rendered files)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
