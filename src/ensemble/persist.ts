/**
 * HybridRecommender <-> artifact bytes. The manifest holds the library version, the strategy
 * order, the recommender's stored options (weights, normalization, cut, filters by id), what
 * tuning found, and per strategy its kind and JSON state; the dataset and every strategy's
 * typed arrays are sections. A business-rule filter is code, not data: it is passed again at load.
 *
 * `customerData` (manifest root): false marks a
 * serving artifact. Its dataset section holds the items and the catalog only (no user ids, no
 * purchase matrix rows, no baskets) and every strategy was saved with { customerData: false }
 * (no user-side state), so requests must bring the shopper's history.
 */
import { ArtifactReader, ArtifactWriter } from '../artifact/container';
import type { Dataset } from '../data/dataset';
import { readDataset, withoutCustomers, writeDataset } from '../data/serialize';
import { StateReader, type LoadContext } from '../artifact/validate';
import { ArtifactError, OptionError } from '../errors';
import type { JsonObject, Recommender, SaveOptions, StrategyLoader } from '../strategies/types';
import { describe, optionsToJson, type OptionChecks } from '../util/options';
import { NORMALIZATIONS } from './normalize';
import { BUILTIN_LOADERS } from './registry';
import { Reranker } from './reranker/combiner';
import { readHyperparameterReport, readShrinkage, resolveTuneOptions, type TuneOptions, type TuneResult } from './tune';

export const LIBRARY_VERSION = '0.1.0';

/** The artifact section of the fallback strategy (strategies live under "strategies/<name>"). */
export const FALLBACK_SECTION = 'fallback';

/** What an artifact stores of a fitted HybridRecommender. */
export interface HybridParts<Stored extends object> {
  names: readonly string[];
  strategies: readonly Recommender[];
  fallback: Recommender | null;
  stored: Readonly<Stored>;
  tuning: TuneResult | null;
  data: Dataset;
  /** False: a serving artifact (no user ids, histories or user-side strategy state). Default true. */
  customerData?: boolean;
  /** The learned combiner (section "reranker", manifest key "reranker"); absent or null: the linear merge. */
  reranker?: Reranker | null;
}

export function writeHybrid<Stored extends object>(parts: HybridParts<Stored>): Uint8Array {
  const w = new ArtifactWriter();
  const customerData = parts.customerData ?? true;
  writeDataset(customerData ? parts.data : withoutCustomers(parts.data), w.scope('data'));
  const saveOptions: SaveOptions = { customerData };
  const save = (strategy: Recommender, section: string, name: string): JsonObject => {
    try {
      return strategy.save(w.scope(section), saveOptions);
    } catch (e) {
      // A strategy that cannot work without customer data (TIFU-KNN) refuses; name where it sits.
      if (e instanceof OptionError && !customerData) throw new OptionError(`save: strategy "${name}"`, `${e.message}. Leave it out of the recommender you save with { customerData: false }, or save with customer data`);
      throw e;
    }
  };
  const strategies: JsonObject = {};
  parts.names.forEach((name, s) => {
    const strategy = parts.strategies[s];
    strategies[name] = { kind: strategy.kind, state: save(strategy, `strategies/${name}`, name) };
  });
  const fallback = parts.fallback ? { kind: parts.fallback.kind, state: save(parts.fallback, FALLBACK_SECTION, FALLBACK_SECTION) } : null;
  // The forest and its item statistics are item-side aggregates: a serving artifact keeps them.
  const reranker: JsonObject = parts.reranker ? { [RERANKER_SECTION]: parts.reranker.save(w.scope(RERANKER_SECTION)) } : {};
  return w.toBytes({
    library: 'hybridrec',
    libraryVersion: LIBRARY_VERSION,
    kind: 'hybrid',
    customerData,
    order: [...parts.names],
    options: optionsToJson(parts.stored),
    tuning: parts.tuning as unknown as JsonObject | null,
    strategies,
    fallback,
    ...reranker,
  });
}

/** The artifact section (and manifest key) of the learned combiner. */
export const RERANKER_SECTION = 'reranker';

/**
 * Reads writeHybrid's bytes; custom strategy kinds need their loader in `loaders`. Every
 * manifest field is checked (a failure is an ArtifactError naming section "manifest" and the
 * field, e.g. "options.weights.knn", "strategies.knn.kind", "tuning.single.knn"); the dataset is
 * read first, so each loader gets its shape (LoadContext) to check its own counts against.
 */
export async function readHybrid<Stored extends object>(
  bytes: Uint8Array,
  loaders: Readonly<Record<string, StrategyLoader>>,
  checks: OptionChecks<Stored>,
  addedLater: Partial<Readonly<Stored>> = {},
): Promise<HybridParts<Stored> & { strategiesByName: Record<string, Recommender>; customerData: boolean }> {
  if (!(bytes instanceof Uint8Array)) throw new ArtifactError('a HybridRecommender artifact is a Uint8Array', 'bytes');
  const reader = ArtifactReader.open(bytes);
  const root = StateReader.of(reader.root, 'manifest', 'root');
  for (const [key, expected] of [['library', 'hybridrec'], ['kind', 'hybrid']]) {
    if (root.raw(key) !== expected) root.fail(key, `not a HybridRecommender artifact (${key} must be "${expected}", got ${describe(root.raw(key))})`);
  }
  root.keys(['library', 'libraryVersion', 'kind', 'order', 'customerData', 'options', 'tuning', 'strategies', 'fallback'], ['annotations', RERANKER_SECTION]);
  root.string('libraryVersion');
  const customerData = root.boolean('customerData');
  // What tools record beside the model (the CLI's fit record): any JSON, not read here.
  if (root.has('annotations')) root.object('annotations');
  const names = strategyOrder(root);
  const specs = root.object('strategies').keys(names);
  const stored = root.options('HybridRecommender', checks, 'options', addedLater);
  // save() writes one weight per strategy (a weight the constructor would default is written too).
  const weights = (stored as { weights?: Record<string, number> }).weights ?? {};
  for (const key of Object.keys(weights)) {
    if (!names.includes(key)) root.fail(`options.weights.${key}`, `no strategy named "${key}" (have ${names.join(', ')})`);
  }
  for (const name of names) if (!(name in weights)) root.fail(`options.weights.${name}`, 'is missing');
  const tuning = root.nullable('tuning', () => readTuning(root.object('tuning'), names));
  const data = readDataset(reader.scope('data'));
  if (!customerData && (data.nUsers > 0 || data.nBaskets > 0)) root.fail('customerData', `is false, but the dataset section holds ${data.nUsers} users and ${data.nBaskets} baskets`);
  const context: LoadContext = { nUsers: data.nUsers, nItems: data.nItems };
  const all = { ...BUILTIN_LOADERS, ...loaders };
  const load = async (spec: StateReader, section: string): Promise<Recommender> => {
    spec.keys(['kind', 'state']);
    const kind = spec.string('kind');
    const loader = Object.hasOwn(all, kind) ? all[kind] : undefined;
    if (!loader) spec.fail('kind', `no loader for strategy kind "${kind}" (pass it in options.loaders)`);
    spec.object('state');
    return loader(spec.raw('state') as JsonObject, reader.scope(section), context);
  };
  const strategiesByName: Record<string, Recommender> = {};
  for (const name of names) strategiesByName[name] = await load(specs.object(name), `strategies/${name}`);
  const fallback = await root.nullable('fallback', (key) => load(root.object(key), FALLBACK_SECTION));
  let reranker: Reranker | null = null;
  if (root.has(RERANKER_SECTION)) {
    root.object(RERANKER_SECTION);
    reranker = Reranker.load(root.raw(RERANKER_SECTION) as JsonObject, reader.scope(RERANKER_SECTION), names, context, RERANKER_SECTION);
  }
  return { names, strategies: names.map((n) => strategiesByName[n]), strategiesByName, fallback, stored, tuning, data, customerData, reranker };
}

/** root.order: distinct strategy names, at least one, none the reserved fallback name. */
function strategyOrder(root: StateReader): string[] {
  const names = root.strings('order');
  if (names.length === 0) root.fail('order', 'names no strategy (a recommender has at least one)');
  names.forEach((name, i) => {
    if (name === FALLBACK_SECTION) root.fail(`order[${i}]`, `"${FALLBACK_SECTION}" is a reserved name`);
    if (names.indexOf(name) !== i) root.fail(`order[${i}]`, `names "${name}" twice`);
  });
  return names;
}

/** root.tuning, what weight tuning found: every field of TuneResult, weights and single scores by strategy name. */
function readTuning(t: StateReader, names: readonly string[]): TuneResult {
  t.keys(['protocol', 'metric', 'k', 'weights', 'normalization', 'score', 'baseline', 'single', 'queries', 'trials'], ['hyperparameters', 'shrinkage']);
  // The tune options' own checks say which protocols and metrics exist.
  const tuneOption = <K extends 'protocol' | 'metric' | 'k'>(key: K): TuneOptions[K] => {
    try {
      const value = resolveTuneOptions({ [key]: t.raw(key) }, 'tuning')[key];
      if (value === 'auto') throw new OptionError(`tuning.${key}`, 'must be the protocol tuning used, got "auto"');
      return value;
    } catch (e) {
      if (e instanceof OptionError) t.fail(key, e.message);
      throw e;
    }
  };
  const byName = (key: string): Record<string, number> => {
    const r = t.object(key).keys(names);
    return Object.fromEntries(names.map((n) => [n, r.number(n, { min: 0 })]));
  };
  return {
    protocol: tuneOption('protocol') as TuneResult['protocol'],
    metric: tuneOption('metric'),
    k: tuneOption('k'),
    weights: byName('weights'),
    normalization: t.oneOf('normalization', NORMALIZATIONS),
    score: t.number('score', { min: 0 }),
    baseline: t.number('baseline', { min: 0 }),
    single: byName('single'),
    queries: t.integer('queries', { min: 0 }),
    trials: t.integer('trials', { min: 0 }),
    ...(t.has('hyperparameters') ? { hyperparameters: readHyperparameterReport(t, names) } : {}),
    ...(t.has('shrinkage') ? { shrinkage: readShrinkage(t.object('shrinkage')) } : {}),
  };
}
