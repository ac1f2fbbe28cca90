/**
 * The driver both recommend-path A/B scripts share (ensemble-ab.ts, reranker-ab.ts): a
 * temporary git worktree of the base revision, then rounds that alternate a fresh child process
 * of each side on the same saved model, and a table of each side's median over the rounds.
 * Each script keeps its own child (what it times) and its own result file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './machine';

/** What one child reports: the timings of a call kind (ms, over its users). */
export interface Timing {
  wallP50: number;
  wallP99: number;
  cpuP50: number;
  cpuP99: number;
  cpuMean: number;
}

export interface AbRun<R> {
  /** The base revision's short commit and this checkout's. */
  rev: string;
  head: string;
  /** The 1-minute load average at the start and after every child. */
  load: number[];
  runs: Record<'base' | 'new', R[]>;
}

/** The base worktree's folder for this process (removed at the end, or by `removeBaseTree` after a crash). */
export const baseTree = (tag: string) => join(tmpdir(), `hybridrec-${tag}-base-${process.pid}`);

/**
 * Runs `rounds` rounds of `script --child <libRoot> ...childArgs` for the base revision's tree
 * and for `root`, in that order, each a fresh process; a child's last stdout line is its JSON
 * result. `report` prints a round's line.
 */
export function alternateRevisions<R>(o: { root: string; script: string; base: string; tag: string; rounds: number; childArgs: string[]; report: (round: number, side: 'base' | 'new', result: R) => void; intro: (rev: string, head: string, load: number) => void }): Promise<AbRun<R>> {
  return withBaseTree(o.root, o.base, o.tag, async (tree, rev, head) => {
    const load = [loadavg()[0]];
    const runs: Record<'base' | 'new', R[]> = { base: [], new: [] };
    o.intro(rev, head, load[0]);
    for (let r = 0; r < o.rounds; r++) {
      for (const [side, libRoot] of [['base', tree], ['new', o.root]] as const) {
        const out = spawnSync(process.execPath, ['--import', 'tsx', o.script, '--child', libRoot, ...o.childArgs], { cwd: o.root, encoding: 'utf8', maxBuffer: 1 << 24 });
        if (out.status !== 0) throw new Error(`${side} round ${r + 1} failed:\n${out.stderr}`);
        const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as R;
        runs[side].push(result);
        o.report(r + 1, side, result);
        load.push(loadavg()[0]);
      }
    }
    return { rev, head, load, runs };
  });
}

/**
 * Runs `run` with a temporary git worktree of `base` (its node_modules linked to `root`'s), its
 * short commit and `root`'s; the worktree is removed afterwards, also on failure.
 */
export async function withBaseTree<T>(root: string, base: string, tag: string, run: (tree: string, rev: string, head: string) => Promise<T>): Promise<T> {
  const tree = baseTree(tag);
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', tree, base], { stdio: 'ignore' });
  try {
    const rev = execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD']).toString().trim();
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim();
    await symlink(join(root, 'node_modules'), join(tree, 'node_modules'));
    return await run(tree, rev, head);
  } finally {
    execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
  }
}

/** Each measure's median per side and the ratio new / base, printed as a markdown table. */
export function medianTable<R>(runs: Record<'base' | 'new', R[]>, rows: Array<[string, (r: R) => number]>): Array<{ measure: string; base: number; new: number; ratio: number }> {
  console.log('\n| measure | base | new | new / base |\n|---|---:|---:|---:|');
  return rows.map(([name, of]) => {
    const b = median(runs.base.map(of));
    const n = median(runs.new.map(of));
    console.log(`| ${name} | ${b.toFixed(3)} | ${n.toFixed(3)} | ${(n / b).toFixed(2)} |`);
    return { measure: name, base: b, new: n, ratio: n / b };
  });
}

/** The rows of a Timing: wall p50/p99, CPU p50/p99/mean. */
export function timingRows<R>(kind: string, of: (r: R) => Timing): Array<[string, (r: R) => number]> {
  return [
    [`${kind} wall p50 ms`, (r) => of(r).wallP50],
    [`${kind} wall p99 ms`, (r) => of(r).wallP99],
    [`${kind} CPU p50 ms`, (r) => of(r).cpuP50],
    [`${kind} CPU p99 ms`, (r) => of(r).cpuP99],
    [`${kind} CPU mean ms`, (r) => of(r).cpuMean],
  ];
}
