/** benchmarks/speed.ts results (speed-<users>x<products>.json): fits, single-user latency, the ensemble, batch and artifact at scale. */
import { describeMachine, type Machine } from '../machine';
import { fs1, mib, ms3, table, type Renderer } from './format';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  cpuP99Ms: number;
  meanTouched?: number;
}

export interface SpeedResult {
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

export const isSpeedResult = (file: string): boolean => file.startsWith('speed-');

export const speed: Renderer = {
  matches: isSpeedResult,
  render({ data, date }) {
    const r = data as unknown as SpeedResult;
    const { users, products } = r.options;
    const command = `NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/speed.ts --users ${users} --products ${products}${r.options.ncfEpochs !== 1 ? ` --ncf-epochs ${r.options.ncfEpochs}` : ''}`;
    const d = r.data;
    const strategyRows = Object.entries(r.strategies).map(([name, s]) => [name, fs1(s.fitSeconds), mib(s.fitPeakRssBytes), ms3(s.latency.p50Ms), ms3(s.latency.p99Ms), (s.latency.meanTouched ?? 0).toFixed(0)]);
    if (r.fallback) strategyRows.push(['fallback (popularity, whole catalog)', fs1(r.fallback.fitSeconds), '–', ms3(r.fallback.latency.p50Ms), ms3(r.fallback.latency.p99Ms), (r.fallback.latency.meanTouched ?? 0).toFixed(0)]);
    if (r.ncf) strategyRows.push([`ncf (${r.ncf.epochs} epoch${r.ncf.epochs === 1 ? '' : 's'})`, fs1(r.ncf.fitSeconds), mib(r.ncf.peakRssBytes), ms3(r.ncf.alone.p50Ms), ms3(r.ncf.alone.p99Ms), (r.ncf.alone.meanTouched ?? 0).toFixed(0)]);
    const parts = [
      `Data: ${d.baskets.toLocaleString('en-US')} orders, ${d.lines.toLocaleString('en-US')} order lines, ${d.userItemNonzeros.toLocaleString('en-US')} user-item pairs, ` +
        `written as Kaggle-format CSVs (${mib(d.csvBytes)}) and read back with \`loadInstacart\` in ${fs1(r.loadSeconds)} s.`,
      '',
      '#### Each strategy: fit, and single-user scoring latency alone',
      '',
      `Latency = query + score + top-10, ${r.options.queries} users after ${r.options.warmup} warm-up calls; "items scored" is the mean number of items a query touched.`,
      '',
      table(['strategy', 'fit s', 'peak RSS during fit', 'p50 ms', 'p99 ms', 'items scored'], strategyRows),
    ];
    const e = r.ensemble;
    if (e) {
      parts.push(
        '',
        `#### The ensemble of the non-neural strategies (${Object.keys(r.strategies).join(', ')})`,
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
        "CPU p99 is process CPU time per call: it also counts V8's parallel GC threads and the benchmark's RSS-sampling worker, so it can exceed wall time; wall time is what a caller waits.",
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
      '#### Targets',
      '',
      table(['target', 'measured', 'met'], r.targets.map((t) => [t.target, t.value, t.met ? 'yes' : '**no**'])),
      '',
      `Reproduce: \`${command}\` (seed ${r.options.seed}; ${describeMachine(r.machine)}; load average ${r.loadAverage.start[0].toFixed(1)} at start, ${r.loadAverage.end[0].toFixed(1)} at end).`,
    );
    return {
      part: 'speed',
      topic: 'Speed and memory at scale: fits and single-user recommend (benchmarks/speed.ts)',
      heading: `${users.toLocaleString('en-US')} users x ${products.toLocaleString('en-US')} products (synthetic) (${date.slice(0, 10)})`,
      date,
      body: parts.join('\n'),
    };
  },
};
