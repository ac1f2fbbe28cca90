/**
 * The reranker's speed results: reranker-shop.ts (reranked recommend() on a synthetic shop at
 * scale), reranker-speed.ts (forest scoring and feature extraction), reranker-xgboost.ts (the
 * booster beside XGBoost) and reranker-features-ab.ts (feature extraction, base against new).
 */
import { describeMachine, type Machine } from '../machine';
import { count, f4, fs1, loadText, ms3, num, reproduce, table, variantHeading, type Renderer } from './format';

interface Stats {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

interface RerankerShop {
  command: string;
  machine: Machine;
  loadAverage: { start: number[]; end: number[] };
  data: { users: number; items: number; baskets: number; generateSeconds: number };
  fitSeconds: Record<string, number>;
  totalFitSeconds: number;
  reranker: { reason: string; usableQueries: number; poolRecall: number; guard?: { queries: number; linearNdcg: number; forestNdcg: number; confidence: number; linearRecall?: number; forestRecall?: number } };
  trees: number;
  features: number;
  latency: { recommend: Stats; recommendCpu: Stats; reranked: Stats; linear: Stats };
  gc: { count: number; pauseMs: number; slowRecommendCalls: number; slowRecommendCallsWithGc: number };
}

export const rerankerShop: Renderer = {
  matches: (file) => file.startsWith('reranker-shop-'),
  render({ data, date }) {
    const d = data as unknown as RerankerShop;
    const l = d.latency;
    const g = d.reranker.guard;
    const fits = Object.entries(d.fitSeconds).map(([n, s]) => `${n} ${fs1(s)} s`).join(', ');
    return {
      part: 'speed',
      topic: 'Reranked recommend at scale (benchmarks/reranker-shop.ts)',
      heading: variantHeading(d.command, date, `${count(d.data.users)} shoppers x ${count(d.data.items)} products, ${d.trees} trees`),
      date,
      body: [
        `Synthetic shop: ${count(d.data.baskets)} baskets. Forest: ${d.trees} trees on ${d.features} features; pool recall ${f4(d.reranker.poolRecall)}${g ? `; guard NDCG@10 linear ${f4(g.linearNdcg)} -> forest ${f4(g.forestNdcg)} on ${g.queries} queries (${(100 * g.confidence).toFixed(1)}% of resamples)${g.linearRecall !== undefined ? `, R@20 within the pool ${f4(g.linearRecall)} -> ${f4(g.forestRecall)}` : ''}` : ''}.`,
        '',
        table(
          ['call', 'p50 ms', 'p99 ms', 'mean ms'],
          [
            ['recommend() reranked, wall', l.recommend],
            ['recommend() reranked, CPU', l.recommendCpu],
            ['index ranker, reranked', l.reranked],
            ['index ranker, linear', l.linear],
          ].map(([name, s]) => [name as string, ms3((s as Stats).p50Ms), ms3((s as Stats).p99Ms), ms3((s as Stats).meanMs)]),
        ),
        '',
        `Reranked / linear index ranker at p50: ${(l.reranked.p50Ms / l.linear.p50Ms).toFixed(2)}x. GC in the timed loop: ${d.gc.count} pauses, ${num(d.gc.pauseMs)} ms; ${d.gc.slowRecommendCallsWithGc} of the ${d.gc.slowRecommendCalls} calls at or above p99 overlap one. Fit ${fs1(d.totalFitSeconds)} s (${fits}).`,
        '',
        reproduce(d.command, d.machine, date, loadText(d.loadAverage)),
      ].join('\n'),
    };
  },
};

interface ScoringRow {
  trees: number;
  p50Ms: number;
  p99Ms: number;
  cpuMs: number;
  bestCpuMs: number;
  cpuNsPerTreeRow: number;
}

interface RerankerSpeed {
  command: string;
  machine: Machine;
  data: { queries: number; candidates: number; features: number };
  fit: { seconds: number; trees: number; leavesPerTree: number; nodes: number; meanDepth: number };
  scoring: Record<string, ScoringRow>;
  contributions: { cpuMs: number; p50Ms: number };
  features: { users: number; products: number; candidates: number; features: number; cpuMs: number; p50Ms: number; p99Ms: number };
}

export const rerankerSpeed: Renderer = {
  matches: (file) => file === 'reranker-speed.json',
  render({ data, date }) {
    const d = data as unknown as RerankerSpeed;
    const f = d.features;
    return {
      part: 'experiments',
      topic: 'Reranker: scoring speed and XGBoost side by side',
      heading: variantHeading(d.command, date, 'Forest scoring and feature extraction'),
      date,
      body: [
        `Fit: ${d.fit.trees} trees on ${d.data.queries} queries x ${d.data.candidates} candidates x ${d.data.features} features in ${fs1(d.fit.seconds)} s; ${num(d.fit.leavesPerTree)} leaves per tree, ${count(d.fit.nodes)} nodes, mean depth ${num(d.fit.meanDepth)}.`,
        '',
        table(
          ['scoring one query', 'CPU ms per call', 'best batch CPU ms', 'CPU ns per tree and row', 'wall p50 ms', 'wall p99 ms'],
          Object.values(d.scoring).map((s) => [`${d.data.candidates} candidates, ${s.trees} trees`, ms3(s.cpuMs), ms3(s.bestCpuMs), num(s.cpuNsPerTreeRow), ms3(s.p50Ms), ms3(s.p99Ms)]),
        ),
        '',
        `Contributions of one row: CPU ${num(d.contributions.cpuMs)} ms per call, wall p50 ${num(d.contributions.p50Ms)} ms. Feature extraction on a ${count(f.users)} x ${count(f.products)} synthetic shop (${num(f.candidates)} candidates x ${f.features} features per shopper): CPU ${ms3(f.cpuMs)} ms per call, wall p50 ${ms3(f.p50Ms)} ms, p99 ${ms3(f.p99Ms)} ms.`,
        '',
        reproduce(d.command, d.machine, date),
      ].join('\n'),
    };
  },
};

interface RerankerXgboost {
  command: string;
  machine: Machine;
  xgboostVersion: string;
  heldOutNdcg10: { hybridrec: number; xgboost: number };
  trainingSeconds: { hybridrec: number; xgboost: number };
  scoring300MedianMs: { hybridrec: number; xgboost: number };
  leavesPerTree: { hybridrec: number; xgboost: number };
}

export const rerankerXgboost: Renderer = {
  matches: (file) => file === 'reranker-xgboost.json',
  render({ data, date }) {
    const d = data as unknown as RerankerXgboost;
    const row = (name: string, v: { hybridrec: number; xgboost: number }, fmt: (x: number) => string) => [name, fmt(v.hybridrec), fmt(v.xgboost), (v.hybridrec / v.xgboost).toFixed(2)];
    return {
      part: 'experiments',
      topic: 'Reranker: scoring speed and XGBoost side by side',
      heading: variantHeading(d.command, date, `LambdaMART beside XGBoost ${d.xgboostVersion}`),
      date,
      body: [
        table(['measure', 'hybridrec', `xgboost ${d.xgboostVersion}`, 'ratio'], [
          row('held-out NDCG@10', d.heldOutNdcg10, f4),
          row('training s', d.trainingSeconds, fs1),
          row('scoring 300 candidates, median ms', d.scoring300MedianMs, ms3),
          row('leaves per tree', d.leavesPerTree, num),
        ]),
        '',
        reproduce(d.command, d.machine, date),
      ].join('\n'),
    };
  },
};

interface FeaturesAb {
  command: string;
  date: string;
  machine: Machine;
  loadAverage: number;
  shop: { users: number; products: number };
  candidates: number;
  features: { base: number; new: number };
  cpuMsPerCall: { base: number; new: number; ratio: number };
  batches: number;
}

export const rerankerFeaturesAb: Renderer = {
  matches: (file) => file.startsWith('reranker-features-ab'),
  render({ data, date }) {
    const d = data as unknown as FeaturesAb;
    return {
      part: 'experiments',
      topic: 'Reranker feature extraction A/B (benchmarks/reranker-features-ab.ts)',
      heading: variantHeading(d.command, date, `${d.features.base} -> ${d.features.new} features`),
      date,
      body: [
        `Same ${count(d.shop.users)} x ${count(d.shop.products)} synthetic shop and shoppers on both sides, in one process (${num(d.candidates)} candidates per shopper, ${d.batches} batches); median CPU per extract call.`,
        '',
        table(['measure', 'base', 'new', 'ratio'], [
          ['features', String(d.features.base), String(d.features.new), (d.features.new / d.features.base).toFixed(2)],
          ['CPU ms per call', num(d.cpuMsPerCall.base), num(d.cpuMsPerCall.new), d.cpuMsPerCall.ratio.toFixed(2)],
        ]),
        '',
        `Reproduce: \`${d.command}\` (${describeMachine(d.machine)}; ${date.slice(0, 10)}; ${loadText(d.loadAverage)}).`,
      ].join('\n'),
    };
  },
};
