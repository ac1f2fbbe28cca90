/**
 * What a serving process does with a loaded model: the requests of the HTTP routes, answered
 * as JSON text. One module for the worker threads and for in-process serving (`workers: 0`),
 * so both answer byte for byte the same.
 */
import { createHash } from 'node:crypto';
import { HybridRecommender, LIBRARY_VERSION, type Recommendation } from '../index';
import { ArtifactReader, FORMAT_VERSION } from '../artifact/container';
import { UnknownIdError } from '../errors';

/** A shopper as the HTTP API takes it (see the target `Shopper` of the library). */
export type ShopperInput =
  | string
  | {
      user?: string;
      history?: readonly string[];
      baskets?: readonly (readonly string[])[];
      days?: readonly number[];
      basket?: readonly string[];
    };

export interface ServeRecommendOptions {
  k: number;
  explain: boolean;
  excludePurchased?: boolean;
  exclude?: readonly string[];
}

/** One unit of scoring work; everything a worker thread is asked to do. */
export type Task =
  | { op: 'recommend'; shopper: ShopperInput; options: ServeRecommendOptions }
  | { op: 'batch'; shoppers: readonly ShopperInput[]; options: ServeRecommendOptions }
  | { op: 'similar'; item: string; options: Pick<ServeRecommendOptions, 'k' | 'explain' | 'exclude'> }
  | { op: 'popular'; options: Pick<ServeRecommendOptions, 'k' | 'exclude'> };

/** What the server tells about the model it serves (GET /model, /ready, the admin route). */
export interface ModelInfo {
  libraryVersion: string;
  formatVersion: number;
  /** sha256 of the artifact bytes, hex. */
  sha256: string;
  bytes: number;
  strategies: string[];
  weights: Record<string, number>;
  users: number;
  items: number;
  /** Whether the artifact holds user ids and purchase histories (GET /recommend?user= needs them). */
  customerData: boolean;
}

/** A loaded model that answers tasks as JSON text. */
export class ServingModel {
  private constructor(
    readonly rec: HybridRecommender,
    readonly info: ModelInfo,
  ) {}

  /** Loads and fully validates an artifact (HybridRecommender.load checks every section). */
  static async load(bytes: Uint8Array, sha256 = sha256Hex(bytes)): Promise<ServingModel> {
    const rec = await HybridRecommender.load(bytes);
    const formatVersion = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
    const data = rec.dataset;
    return new ServingModel(rec, {
      libraryVersion: String((ArtifactReader.open(bytes).root as { libraryVersion?: unknown } | null)?.libraryVersion ?? LIBRARY_VERSION),
      formatVersion: formatVersion || FORMAT_VERSION,
      sha256,
      bytes: bytes.byteLength,
      strategies: rec.strategyNames,
      weights: rec.strategyWeights,
      users: data.nUsers,
      items: data.nItems,
      customerData: data.nUsers > 0,
    });
  }

  /** The answer to `task` as JSON text; typed library errors propagate. */
  run(task: Task): string {
    switch (task.op) {
      case 'recommend':
        return JSON.stringify({ items: this.recommend(task.shopper, task.options) });
      case 'batch':
        return JSON.stringify({ results: task.shoppers.map((s) => ({ items: this.recommend(s, task.options) })) });
      case 'similar':
        return JSON.stringify({ items: this.similar(task.item, task.options) });
      case 'popular':
        return JSON.stringify({ items: this.recommend({ history: [] }, { ...task.options, explain: false }) });
    }
  }

  /**
   * The target API's recommend(shopper, options) on the facade of today.
   * TODO(api merge): this whole method becomes `this.rec.recommend(shopper, options)`.
   */
  private recommend(shopper: ShopperInput, options: ServeRecommendOptions): Recommendation[] {
    const rec = this.rec;
    const o = { k: options.k, explain: options.explain, excludePurchased: options.excludePurchased, exclude: options.exclude };
    const known = (user: string, field: string) => {
      if (rec.dataset.users.indexOf(user) < 0) throw withField(new UnknownIdError('user', user), field);
      return user;
    };
    if (typeof shopper === 'string') return rec.recommend(known(shopper, 'user'), o);
    const basket = shopper.basket ?? [];
    const history = shopper.history ?? shopper.baskets?.flat();
    try {
      if (history !== undefined) return rec.recommendAnonymous({ history, basket }, o);
      if (shopper.user !== undefined) return rec.recommend(known(shopper.user, 'user'), { ...o, basket });
      return rec.recommendAnonymous({ basket }, o);
    } catch (e) {
      if (e instanceof UnknownIdError && e.kind === 'item') throw withField(e, fieldOf(e.id, shopper));
      throw e;
    }
  }

  private similar(item: string, options: Pick<ServeRecommendOptions, 'k' | 'explain' | 'exclude'>): Recommendation[] {
    try {
      return this.rec.similarItems(item, options);
    } catch (e) {
      if (e instanceof UnknownIdError) throw withField(e, 'item');
      throw e;
    }
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The request field an unknown item id came from (the facade of today does not say). */
function fieldOf(id: string, shopper: Exclude<ShopperInput, string>): string {
  const at = (list: readonly string[] | undefined, name: string) => {
    const i = list?.indexOf(id) ?? -1;
    return i >= 0 ? `${name}[${i}]` : null;
  };
  const inBaskets = shopper.baskets?.map((b, j) => at(b, `baskets[${j}]`)).find((x) => x !== null);
  return at(shopper.history, 'history') ?? inBaskets ?? at(shopper.basket, 'basket') ?? 'history';
}

function withField<E extends Error>(e: E, field: string): E {
  (e as E & { field?: string }).field = (e as E & { field?: string }).field ?? field;
  return e;
}
