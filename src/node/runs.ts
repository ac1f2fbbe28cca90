/**
 * Run records: one JSON line per fit or evaluation, appended to `<dir>/runs.jsonl`, so a team
 * can see what was trained on what, with which options, how long it took and how good it was
 * (the MLflow / W&B habit, as plain files: no server). `hybridrec runs` lists and compares them.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactReader } from '../artifact/container';
import { rewriteRoot } from '../artifact/rewrite';
import type { Dataset } from '../data/dataset';
import { DataError, OptionError } from '../errors';
import type { Json, JsonObject } from '../util/json';

export const RUNS_FILE = 'runs.jsonl';

/** What data a run saw: sizes and a fingerprint that changes when any id or interaction does. */
export interface DataSummary {
  /** Where the data came from, in words ("instacart ./data", "synthetic users=2000 ..."). */
  source: string;
  /** sha256 (hex) of the ids, the interaction matrix and the baskets; see dataFingerprint. */
  fingerprint: string;
  users: number;
  items: number;
  /** Stored (user, item) pairs. */
  interactions: number;
  baskets: number;
  orderLines: number;
}

export interface RunRecord {
  /** Unique, sortable: start time and kind. */
  id: string;
  kind: 'fit' | 'evaluate';
  startedAt: string;
  libraryVersion: string;
  node: string;
  /** The command line, when the run came from the CLI. */
  command: string[] | null;
  data: DataSummary;
  /** Per strategy: its kind and the options (JSON state) it saved. */
  strategies: Record<string, { kind: string; options: Json }>;
  weights: Record<string, number>;
  /** Seconds per stage (per strategy fit, tuning, evaluation per ranker, save). */
  timings: Record<string, number>;
  /**
   * fit: the validation metrics weight tuning recorded ({ tuning: { score, baseline, <strategy>... } }), or null.
   * evaluate: per ranker (each strategy and "ensemble"), the held-out metrics.
   */
  metrics: Record<string, Record<string, number>> | null;
  /** evaluate: the protocol and cutoff. */
  protocol: string | null;
  k: number | null;
  /** fit: the model file written. */
  model: { path: string; sha256: string; bytes: number } | null;
}

/**
 * A stable hash of a dataset: user and item ids in index order, the interaction matrix (CSR
 * pointers, indices, weights) and the baskets (pointers, items, days). Same data, same
 * fingerprint, in any process; one changed id, purchase or weight changes it.
 */
export function dataFingerprint(data: Dataset): string {
  const h = createHash('sha256');
  const ids = (index: { size: number; id(i: number): string }) => {
    for (let i = 0; i < index.size; i++) h.update(index.id(i)).update('\u0000');
    h.update('\u0001');
  };
  const array = (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  ids(data.users);
  ids(data.items);
  const m = data.interactions;
  array(m.indptr);
  array(m.indices);
  array(m.values);
  const b = data.baskets;
  array(b.userPtr);
  array(b.itemPtr);
  array(b.items);
  array(b.day);
  return h.digest('hex');
}

export function describeData(data: Dataset, source: string): DataSummary {
  return {
    source,
    fingerprint: dataFingerprint(data),
    users: data.nUsers,
    items: data.nItems,
    interactions: data.interactions.indices.length,
    baskets: data.nBaskets,
    orderLines: data.baskets.items.length,
  };
}

/** The strategies, weights and tuning metrics an artifact's manifest holds. */
export function modelSummary(artifact: Uint8Array): Pick<RunRecord, 'strategies' | 'weights'> & { tuning: Record<string, number> | null } {
  const root = ArtifactReader.open(artifact).root as JsonObject;
  const specs = (root.strategies ?? {}) as Record<string, { kind: string; state: Json }>;
  const strategies: RunRecord['strategies'] = {};
  for (const name of (root.order ?? Object.keys(specs)) as string[]) strategies[name] = { kind: specs[name].kind, options: specs[name].state };
  const weights = (root.weights ?? (root.options as JsonObject | undefined)?.weights ?? {}) as Record<string, number>;
  const t = root.tuning as { score?: number; baseline?: number; single?: Record<string, number>; metric?: string } | null;
  const tuning = t && typeof t.score === 'number' ? { ensemble: t.score, equalWeights: t.baseline ?? NaN, ...(t.single ?? {}) } : null;
  return { strategies, weights, tuning };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A new record's id: its start time (sortable) and kind. */
export function runId(kind: RunRecord['kind'], started: Date): string {
  return `${started.toISOString().replace(/[:.]/g, '-')}-${kind}`;
}

/** Appends `record` as one line of `<dir>/runs.jsonl` (the folder is created); returns the file. */
export async function appendRun(dir: string, record: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, RUNS_FILE);
  // One write of one line: appends of concurrent runs do not interleave.
  await appendFile(file, `${JSON.stringify(record)}\n`, 'utf8');
  return file;
}

/** Every record of `<dir>/runs.jsonl`, oldest first ([] when the folder has none). A malformed line is a DataError naming it. */
export async function readRuns(dir: string): Promise<RunRecord[]> {
  const file = join(dir, RUNS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DataError(`cannot read run records: ${(e as Error).message}`, { file });
  }
  const runs: RunRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const run = JSON.parse(line) as RunRecord;
      if (typeof run.id !== 'string' || (run.kind !== 'fit' && run.kind !== 'evaluate')) throw new Error('not a run record');
      runs.push(run);
    } catch (e) {
      throw new DataError(`malformed run record: ${(e as Error).message}`, { file, line: i + 1 });
    }
  });
  return runs;
}

/** The run named by `ref`: its full id, a unique prefix of it, or its 1-based position in the list (negative counts from the end). */
export function findRun(runs: readonly RunRecord[], ref: string): RunRecord {
  if (/^-?[0-9]+$/.test(ref)) {
    const n = Number(ref);
    const run = n > 0 ? runs[n - 1] : runs[runs.length + n];
    if (run) return run;
  }
  const matches = runs.filter((r) => r.id === ref || r.id.startsWith(ref));
  if (matches.length === 1) return matches[0];
  throw new OptionError('run', matches.length === 0 ? `no run "${ref}" (${runs.length} runs recorded)` : `"${ref}" names ${matches.length} runs; give more of the id`);
}

/**
 * The artifact with `value` stored under `key` of its manifest root's `annotations` (every
 * section kept as is), for what the CLI records at fit (data fingerprint and sizes, seconds
 * per stage). HybridRecommender.load reads annotations as opaque JSON (any other unknown root
 * key is an ArtifactError).
 */
export function annotateArtifact(bytes: Uint8Array, key: string, value: Json): Uint8Array {
  return rewriteRoot(bytes, (root) => ({ ...root, annotations: { ...((root.annotations ?? {}) as JsonObject), [key]: value } }));
}
