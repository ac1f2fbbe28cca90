import type { SectionWriter } from '../../artifact/sections';
import { StateReader } from '../../artifact/validate';
import { DataError, NotFittedError, OptionError } from '../../errors';
import { boolean, integer, nullable, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../../util/options';
import { Pace } from '../../util/pace';
import type { JsonObject } from '../types';
import { isBlank, textAt, type DenseItemVectors, type EncodeOptions, type ItemTextEncoder } from './encoder';
import { loadOptional } from '../../util/optional';

/** ONNX weight variants transformers.js can load (file suffixes of the model's onnx/ folder). */
export type MiniLMDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';
const DTYPES: readonly MiniLMDtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

export interface MiniLMOptions {
  /** Hugging Face model id (transformers.js layout) or a path under localModelPath. Default 'Xenova/all-MiniLM-L6-v2': the small sentence model transformers.js ships for this task. */
  model: string;
  /**
   * Folder (Node) or URL prefix (browser) holding models as `<localModelPath>/<model>/`, for
   * offline use. Default null: transformers.js' own setting.
   */
  localModelPath: string | null;
  /**
   * May the model be downloaded from the Hugging Face hub? Default null: yes unless
   * localModelPath is given (a local folder means "offline").
   */
  allowRemote: boolean | null;
  /** Which weights to load: 'q8' is the 8-bit quantized model (onnx/model_quantized.onnx, 4x smaller), 'fp32' the full one. Default 'q8', for the size. */
  dtype: MiniLMDtype;
  /** Texts per forward pass. Default 64, a throughput choice on 2 cores; not tuned. */
  batchSize: number;
}

const CHECKS: OptionChecks<MiniLMOptions> = {
  model: (value, name) => {
    if (typeof value !== 'string' || value.length === 0) throw new OptionError(name, 'must be a non-empty string');
    return value;
  },
  localModelPath: nullable((value, name) => {
    if (typeof value !== 'string' || value.length === 0) throw new OptionError(name, 'must be a non-empty string or null');
    return value;
  }),
  allowRemote: nullable(boolean()),
  dtype: oneOf(DTYPES),
  batchSize: integer({ min: 1 }),
};

/** The part of a transformers.js feature-extraction pipeline used here. */
interface FeatureExtractor {
  (texts: string[], options: { pooling: 'mean'; normalize: boolean }): Promise<{ dims: number[]; data: ArrayLike<number> }>;
  dispose(): Promise<void>;
}

/**
 * Sentence embeddings from a transformers.js feature-extraction model (MiniLM by default):
 * mean-pooled over tokens and L2-normalized, in batches. @huggingface/transformers (an optional
 * peer dependency) is imported on first encode only, so code that just scores stored vectors
 * never loads it.
 */
export class MiniLMEncoder implements ItemTextEncoder {
  static readonly defaults: Readonly<MiniLMOptions> = Object.freeze({
    model: 'Xenova/all-MiniLM-L6-v2',
    localModelPath: null,
    allowRemote: null,
    dtype: 'q8',
    batchSize: 64,
  });

  readonly kind = 'minilm';
  readonly options: Readonly<MiniLMOptions>;
  private dims: number | null = null;
  private extractor: Promise<FeatureExtractor> | null = null;

  constructor(options: Partial<MiniLMOptions> = {}) {
    this.options = resolveOptions('MiniLMEncoder', MiniLMEncoder.defaults, options, CHECKS);
  }

  /** Whether the model may be downloaded: allowRemote, or (null) whether no localModelPath was given. */
  get remoteAllowed(): boolean {
    return this.options.allowRemote ?? this.options.localModelPath === null;
  }

  /** True once the output size is known (after an encode or load). */
  get fitted(): boolean {
    return this.dims !== null;
  }

  /** Output size (384 for all-MiniLM-L6-v2). */
  get dim(): number {
    if (this.dims === null) throw new NotFittedError('MiniLMEncoder');
    return this.dims;
  }

  /** Nothing to learn: encodes the corpus and records the output size. */
  fit(texts: readonly string[], options: EncodeOptions = {}): Promise<DenseItemVectors> {
    return this.encode(texts, options);
  }

  async encode(texts: readonly string[], options: EncodeOptions = {}): Promise<DenseItemVectors> {
    const n = texts.length;
    const todo: number[] = [];
    for (let i = 0; i < n; i++) if (!isBlank(textAt(texts, i))) todo.push(i);
    if (todo.length === 0) {
      if (this.dims === null) throw new DataError('MiniLMEncoder: every text is empty, so there is nothing to learn the output size from');
      return { format: 'dense', rows: n, dim: this.dims, data: new Float32Array(n * this.dims) };
    }
    // Similar lengths share a batch, so little compute goes to padding.
    todo.sort((a, b) => texts[a].length - texts[b].length || a - b);
    const extractor = await this.pipeline();
    const { batchSize } = this.options;
    const stage = 'minilm encode';
    const pace = new Pace(options.signal, 'MiniLMEncoder.encode');
    let data: Float32Array | null = this.dims === null ? null : new Float32Array(n * this.dims);
    for (let start = 0; start < todo.length; start += batchSize) {
      // Each batch awaits the model, but its work can outlast a slice: pace between batches too.
      if (pace.due()) await pace.pause();
      options.onProgress?.({ stage, done: start, total: todo.length });
      const batch = todo.slice(start, start + batchSize);
      const output = await extractor(
        batch.map((i) => texts[i]),
        { pooling: 'mean', normalize: true },
      );
      const [rows, dim] = output.dims;
      if (output.dims.length !== 2 || rows !== batch.length) {
        throw new DataError(`model "${this.options.model}" returned shape [${output.dims.join(', ')}] for ${batch.length} texts, expected [${batch.length}, dim]`);
      }
      if (this.dims === null) this.dims = dim;
      if (dim !== this.dims) throw new DataError(`model "${this.options.model}" returned ${dim} dimensions, expected ${this.dims}`);
      data ??= new Float32Array(n * dim);
      for (let r = 0; r < rows; r++) {
        const at = batch[r] * dim;
        for (let j = 0; j < dim; j++) data[at + j] = output.data[r * dim + j];
      }
    }
    options.onProgress?.({ stage, done: todo.length, total: todo.length });
    return { format: 'dense', rows: n, dim: this.dims!, data: data! };
  }

  /** Releases the model session; the next encode loads it again. */
  async dispose(): Promise<void> {
    const extractor = this.extractor;
    this.extractor = null;
    if (extractor) await (await extractor.catch(() => null))?.dispose();
  }

  private pipeline(): Promise<FeatureExtractor> {
    this.extractor ??= loadExtractor(this.options, this.remoteAllowed).catch((e: unknown) => {
      this.extractor = null;
      throw e;
    });
    return this.extractor;
  }

  save(_out: SectionWriter): JsonObject {
    if (this.dims === null) throw new NotFittedError('MiniLMEncoder');
    return { kind: this.kind, options: optionsToJson(this.options), dim: this.dims };
  }

  /** Rebuilds a saved encoder (`state`: its JSON state, or a reader of it inside a larger state; `section` names a bare one in errors). */
  static load(state: JsonObject | StateReader, section = 'manifest'): MiniLMEncoder {
    const s = state instanceof StateReader ? state : StateReader.of(state, section);
    s.keys(['kind', 'options', 'dim']).literal('kind', 'minilm');
    const encoder = new MiniLMEncoder(s.options('MiniLMEncoder', CHECKS));
    encoder.dims = s.integer('dim', { min: 1 });
    return encoder;
  }

}

/**
 * transformers.js reads where models live from its global `env` while a pipeline loads, so the
 * settings are swapped in for the load and restored after; loads queue behind each other so
 * two encoders with different folders never see each other's settings.
 */
let envQueue: Promise<unknown> = Promise.resolve();

async function loadExtractor(o: MiniLMOptions, allowRemote: boolean): Promise<FeatureExtractor> {
  const transformers = await loadOptional<typeof import('@huggingface/transformers')>('@huggingface/transformers', 'MiniLMEncoder');
  const { env, pipeline } = transformers;
  const load = async (): Promise<FeatureExtractor> => {
    const saved = { localModelPath: env.localModelPath, allowLocalModels: env.allowLocalModels, allowRemoteModels: env.allowRemoteModels };
    try {
      if (o.localModelPath !== null) {
        env.localModelPath = o.localModelPath;
        env.allowLocalModels = true;
      }
      env.allowRemoteModels = allowRemote;
      const extractor = await pipeline('feature-extraction', o.model, { dtype: o.dtype, local_files_only: !allowRemote });
      return extractor as unknown as FeatureExtractor;
    } catch (e) {
      const where = o.localModelPath !== null ? ` from ${o.localModelPath}` : '';
      const remote = allowRemote ? '' : ' (downloads are off: allowRemote is false, or null with a localModelPath)';
      throw new OptionError('MiniLMEncoder.model', `cannot load "${o.model}"${where} with dtype ${o.dtype}${remote}: ${(e as Error).message}`);
    } finally {
      env.localModelPath = saved.localModelPath;
      env.allowLocalModels = saved.allowLocalModels;
      env.allowRemoteModels = saved.allowRemoteModels;
    }
  };
  const result = envQueue.then(load, load);
  envQueue = result.catch(() => undefined);
  return result;
}
