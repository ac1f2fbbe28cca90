/** Side-by-side speed results of one file each: implicit-side-by-side.json, dense-algebra.json, als-scale.json. */
import { describeMachine, type Machine } from '../machine';
import { recordTable, type Part, type Renderer, type TableRow } from './format';

interface SideBySide {
  command: string;
  machine: Machine;
  rows?: TableRow[];
  foldIn?: TableRow;
  inverse?: TableRow[];
  runs?: TableRow[];
  /** benchmarks/als-scale.ts: one row per thread count, ours and implicit's median fit seconds. */
  fit?: TableRow[];
  recommendUsersPerSecond?: { hybridrec: number; implicit: number; users: number };
  identicalAcrossThreads?: boolean;
  peakRssMb?: number;
  loadAverage1m?: { before: number; after: number };
}

const PLACES: Record<string, { topic: string; heading: string; part: Part }> = {
  'implicit-side-by-side.json': { part: 'speed', topic: 'Side by side with implicit and ml-matrix', heading: 'Side by side with implicit 0.7.3 (P1, P2; one thread each)' },
  'dense-algebra.json': { part: 'speed', topic: 'Side by side with implicit and ml-matrix', heading: 'Dense algebra: src/util/spd.ts against ml-matrix' },
  'als-scale.json': { part: 'speed', topic: 'Fits on 1 and 2 threads', heading: 'ALS fit at scale (synthetic)' },
};

export const sideBySide: Renderer = {
  matches: (file) => file in PLACES,
  render({ file, data, date }) {
    const d = data as unknown as SideBySide;
    const parts: string[] = [];
    if (d.rows) parts.push(recordTable(d.rows), '');
    if (d.foldIn) parts.push(`Fold-in solve: ${recordTable([d.foldIn])}`, '');
    if (d.inverse) parts.push(recordTable(d.inverse), '');
    if (d.runs) parts.push(recordTable(d.runs), '');
    if (d.fit) parts.push(recordTable(d.fit), '');
    if (d.recommendUsersPerSecond) {
      const r = d.recommendUsersPerSecond;
      parts.push(`Recommend for ${r.users.toLocaleString('en-US')} users: hybridrec ${Math.round(r.hybridrec).toLocaleString('en-US')} users/s, implicit ${Math.round(r.implicit).toLocaleString('en-US')} users/s.`, '');
    }
    if (d.identicalAcrossThreads !== undefined) parts.push(`Factors identical for every thread count: ${d.identicalAcrossThreads}. Peak RSS ${Math.round(d.peakRssMb ?? 0)} MiB.`, '');
    const load = d.loadAverage1m ? `; load average ${d.loadAverage1m.before} at start, ${d.loadAverage1m.after} at end` : '';
    parts.push(`Reproduce: \`${d.command}\` (${describeMachine(d.machine)}; ${date.slice(0, 10)}${load}).`);
    const place = PLACES[file];
    return { part: place.part, topic: place.topic, heading: `${place.heading} (${date.slice(0, 10)})`, date, body: parts.join('\n') };
  },
};
