/**
 * HybridRecommender <-> artifact bytes. The manifest holds the library version, the strategy
 * order, the recommender's stored options (weights, normalization, cut, filters by id), what
 * tuning found, and per strategy its kind and JSON state; the dataset and every strategy's
 * typed arrays are sections. A business-rule filter is code, not data: it is passed again at load.
 */
import { ArtifactReader, ArtifactWriter } from '../artifact/container';
import type { Dataset } from '../data/dataset';
import { readDataset, writeDataset } from '../data/serialize';
import { ArtifactError } from '../errors';
import type { JsonObject, Recommender, StrategyLoader } from '../strategies/types';
import { optionsFromArtifact, optionsToJson, type OptionChecks } from '../util/options';
import { BUILTIN_LOADERS } from './registry';
import type { TuneResult } from './tune';

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
}

export function writeHybrid<Stored extends object>(parts: HybridParts<Stored>): Uint8Array {
  const w = new ArtifactWriter();
  writeDataset(parts.data, w.scope('data'));
  const strategies: JsonObject = {};
  parts.names.forEach((name, s) => {
    const strategy = parts.strategies[s];
    strategies[name] = { kind: strategy.kind, state: strategy.save(w.scope(`strategies/${name}`)) };
  });
  const fallback = parts.fallback ? { kind: parts.fallback.kind, state: parts.fallback.save(w.scope(FALLBACK_SECTION)) } : null;
  return w.toBytes({
    library: 'hybridrec',
    libraryVersion: LIBRARY_VERSION,
    kind: 'hybrid',
    order: [...parts.names],
    options: optionsToJson(parts.stored),
    tuning: parts.tuning as unknown as JsonObject | null,
    strategies,
    fallback,
  });
}

/** Reads writeHybrid's bytes; custom strategy kinds need their loader in `loaders`. */
export async function readHybrid<Stored extends object>(
  bytes: Uint8Array,
  loaders: Readonly<Record<string, StrategyLoader>>,
  checks: OptionChecks<Stored>,
): Promise<HybridParts<Stored> & { strategiesByName: Record<string, Recommender> }> {
  if (!(bytes instanceof Uint8Array)) throw new ArtifactError('a HybridRecommender artifact is a Uint8Array', 'bytes');
  const reader = ArtifactReader.open(bytes);
  const root = reader.root as JsonObject | null;
  if (!root || root.library !== 'hybridrec' || root.kind !== 'hybrid') throw new ArtifactError('not a HybridRecommender artifact', 'manifest');
  const all = { ...BUILTIN_LOADERS, ...loaders };
  const order = root.order;
  const specs = root.strategies;
  if (!Array.isArray(order) || order.some((n) => typeof n !== 'string') || typeof specs !== 'object' || specs === null || Array.isArray(specs)) {
    throw new ArtifactError('manifest lacks the strategy list', 'manifest');
  }
  const load = async (spec: unknown, section: string): Promise<Recommender> => {
    const { kind, state } = (spec ?? {}) as { kind?: unknown; state?: unknown };
    const loader = typeof kind === 'string' ? all[kind] : undefined;
    if (!loader) throw new ArtifactError(`no loader for strategy kind "${String(kind)}" (pass it in options.loaders)`, section);
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new ArtifactError('strategy state must be an object', section);
    return loader(state as JsonObject, reader.scope(section));
  };
  const names = order as string[];
  const strategiesByName: Record<string, Recommender> = {};
  for (const name of names) strategiesByName[name] = await load(specs[name], `strategies/${name}`);
  const fallback = root.fallback === null || root.fallback === undefined ? null : await load(root.fallback, FALLBACK_SECTION);
  return {
    names,
    strategies: names.map((n) => strategiesByName[n]),
    strategiesByName,
    fallback,
    stored: optionsFromArtifact('HybridRecommender', root.options, checks, 'manifest.options'),
    tuning: (root.tuning ?? null) as unknown as TuneResult | null,
    data: readDataset(reader.scope('data')),
  };
}
