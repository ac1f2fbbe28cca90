/**
 * What a serving process does with a loaded model: the requests of the HTTP routes, answered
 * as JSON text. One module for the worker threads and for in-process serving (`workers: 0`),
 * so both answer byte for byte the same.
 */
import { createHash } from 'node:crypto';
import { HybridRecommender, type RecommendOptions, type Shopper } from '../index';
import { LIBRARY_VERSION } from '../ensemble/persist';
import { ArtifactReader, FORMAT_VERSION } from '../artifact/container';
import { UnknownIdError } from '../errors';

/** A shopper as the HTTP API takes it: the library's Shopper. */
export type ShopperInput = Shopper;

export interface ServeRecommendOptions {
  k: number;
  explain: boolean;
  excludePurchased?: boolean;
  /** 'all' (default), 'buy-again' or 'discover' (see RecommendOptions.list). */
  list?: 'all' | 'buy-again' | 'discover';
  exclude?: readonly string[];
  /** 'error' (default): an unknown item id is a 404; 'skip': left out and listed in the answer's `skipped`. */
  unknownItems?: 'error' | 'skip';
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
      customerData: rec.customerData,
    });
  }

  /** The answer to `task` as JSON text; typed library errors propagate (as rejections). */
  async run(task: Task): Promise<string> {
    switch (task.op) {
      case 'recommend':
        return this.answer(task.options, (o) => ({ items: this.rec.recommend(task.shopper, o) }));
      case 'batch':
        // One thread: the server's own workers already use every core.
        return this.answer(task.options, async (o) => ({ results: (await this.rec.recommendBatch(task.shoppers, { ...o, threads: 1 })).map((items) => ({ items })) }));
      case 'similar':
        try {
          return JSON.stringify({ items: this.rec.similarItems(task.item, task.options) });
        } catch (e) {
          // The library names its argument (itemId); the route calls it item.
          if (e instanceof UnknownIdError) throw Object.assign(e, { field: 'item' });
          throw e;
        }
      case 'popular':
        // What a shopper with no history gets: the explicit cold start.
        return JSON.stringify({ items: this.rec.recommend({ history: [] }, { ...task.options, explain: false }) });
    }
  }

  /** Runs `compute` with the options; with unknownItems 'skip' the answer lists what was skipped, by field. */
  private async answer(options: ServeRecommendOptions, compute: (o: Partial<RecommendOptions>) => object | Promise<object>): Promise<string> {
    if (options.unknownItems !== 'skip') return JSON.stringify(await compute(options));
    const skipped: Array<{ id: string; field: string }> = [];
    const answer = await compute({ ...options, onUnknownItem: (id, field) => skipped.push({ id, field: requestField(field) }) });
    return JSON.stringify({ ...answer, skipped });
  }
}

/** A library error's field ("shopper.history[3]", "shoppers[2].basket[0]") as the request names it ("history[3]", "shoppers[2].basket[0]"). */
export function requestField(field: string): string {
  return field === 'shopper' ? 'user' : field.replace(/^shopper\./, '');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
