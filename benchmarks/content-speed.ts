/**
 * Content strategy speed: encoding ~50k product texts (TF-IDF; the tiny random BERT test
 * model through the real transformers.js path), and per-query scoring latency at 20k and 50k
 * items for TF-IDF (inverted index), the 32-d test model, and random 384-d vectors (the size
 * of MiniLM's, so the dense scoring cost is what MiniLM would cost).
 *
 *   npx tsx benchmarks/content-speed.ts [--skip-model]
 *
 * Texts are the real Instacart catalog ("{name} {aisle} {department}", 49,688 products) when
 * ../shared/data/instacart is present, else seeded synthetic product names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { parseCsv } from '../src/data/csv';
import { Dataset, emptyCatalog, type Catalog } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { ContentBased, MiniLMEncoder, TfidfEncoder } from '../src/strategies/content';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { optionsToJson } from '../src/util/options';
import { mulberry32, randomNormal, type Rng } from '../src/util/random';
import { median } from './machine';

const DATA = fileURLToPath(new URL('../../shared/data/instacart', import.meta.url));
const MODELS = fileURLToPath(new URL('../../shared/models/', import.meta.url));
const TINY = `${MODELS}test/tiny-random-bert/onnx/model.onnx`;
const QUERIES = 1000;
const WARMUP = 100;
const SIMILAR_CALLS = 200;

function loadCatalog(): { source: string; ids: string[]; catalog: Catalog } {
  if (existsSync(`${DATA}/products.csv.gz`)) {
    const byId = (file: string) => new Map(parseCsv(readFileSync(`${DATA}/${file}`, 'utf8'), { header: true }).records.map((r) => [r.fields[0], r.fields[1]]));
    const aisles = byId('aisles.csv');
    const departments = byId('departments.csv');
    const products = parseCsv(gunzipSync(readFileSync(`${DATA}/products.csv.gz`)).toString('utf8'), { header: true }).records;
    const catalog = emptyCatalog(products.length);
    products.forEach((r, i) => {
      catalog.name[i] = r.fields[1];
      catalog.aisle[i] = aisles.get(r.fields[2]) ?? '';
      catalog.department[i] = departments.get(r.fields[3]) ?? '';
    });
    return { source: `Instacart products.csv (${products.length} products)`, ids: products.map((r) => r.fields[0]), catalog };
  }
  const rng = mulberry32(42);
  const pick = (words: string[]) => words[Math.floor(rng() * words.length)];
  const brands = ['Organic', 'Classic', 'Family', 'Fresh', 'Original', 'Light', 'Premium', 'Natural', 'Greek', 'Italian'];
  const things = ['Yogurt', 'Pasta', 'Apple', 'Shampoo', 'Coffee', 'Chips', 'Milk', 'Bread', 'Cheese', 'Salsa', 'Juice', 'Soup'];
  const flavours = ['Strawberry', 'Vanilla', 'Garlic', 'Lemon', 'Honey', 'Jalapeño', 'Sea Salt', 'Chocolate', 'Mint', 'Original'];
  const n = 50_000;
  const catalog = emptyCatalog(n);
  for (let i = 0; i < n; i++) {
    catalog.name[i] = `${pick(brands)} ${pick(flavours)} ${pick(things)} ${Math.floor(rng() * 900 + 100)} oz`;
    catalog.aisle[i] = `aisle ${i % 134}`;
    catalog.department[i] = `department ${i % 21}`;
  }
  return { source: `synthetic product names (${n}; ${DATA} not found)`, ids: Array.from({ length: n }, (_, i) => String(i + 1)), catalog };
}

/** A catalog-only dataset of the first n products (content fits need no purchases). */
function datasetOf(ids: string[], catalog: Catalog, n: number): Dataset {
  const slice: Catalog = {
    name: catalog.name.slice(0, n),
    aisle: catalog.aisle.slice(0, n),
    department: catalog.department.slice(0, n),
    meta: catalog.meta.slice(0, n),
  };
  return Dataset.fromInteractions({
    users: new IdIndex(['u']),
    items: new IdIndex(ids.slice(0, n)),
    catalog: slice,
    user: new Int32Array([0]),
    item: new Int32Array([0]),
  });
}

/** A known user's query: 10 baskets of 10 random items, one every 7 days. */
function randomQuery(rng: Rng, nItems: number): Query {
  const baskets = 10;
  const perBasket = 10;
  const itemPtr = Int32Array.from({ length: baskets + 1 }, (_, b) => b * perBasket);
  const items = Int32Array.from({ length: baskets * perBasket }, () => Math.floor(rng() * nItems));
  const counts = new Map<number, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  const sorted = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
  return {
    user: 0,
    history: { items: sorted, weights: Float32Array.from(sorted, (i) => counts.get(i)!) },
    timeline: { itemPtr, items, day: Float64Array.from({ length: baskets }, (_, b) => 7 * b) },
    basket: new Int32Array(0),
  };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function latency(label: string, model: ContentBased, nItems: number): void {
  const rng = mulberry32(7);
  const queries = Array.from({ length: QUERIES + WARMUP }, () => randomQuery(rng, nItems));
  const out = new ScoreVector(nItems);
  const times = new Float64Array(QUERIES);
  let touched = 0;
  for (let q = 0; q < queries.length; q++) {
    out.reset();
    const t0 = performance.now();
    model.score(queries[q], out);
    const dt = performance.now() - t0;
    if (q >= WARMUP) {
      times[q - WARMUP] = dt;
      touched += out.length;
    }
  }
  times.sort();
  const similar = new Float64Array(SIMILAR_CALLS);
  for (let q = 0; q < SIMILAR_CALLS; q++) {
    const t0 = performance.now();
    model.similarItems(q % nItems, 10);
    similar[q] = performance.now() - t0;
  }
  similar.sort();
  console.log(
    `  ${label.padEnd(34)} ${String(nItems).padStart(6)} items  score p50 ${percentile(times, 0.5).toFixed(3)} ms  p99 ${percentile(times, 0.99).toFixed(3)} ms` +
      `  (${Math.round(touched / QUERIES)} items scored/query)  similarItems(k=10, ${SIMILAR_CALLS} calls) p50 ${percentile(similar, 0.5).toFixed(3)} ms  p99 ${percentile(similar, 0.99).toFixed(3)} ms`,
  );
}

/** A ContentBased over random unit vectors of `dim` dimensions, built through the artifact loader. */
async function randomDense(nItems: number, dim: number): Promise<ContentBased> {
  const rng = mulberry32(3);
  const data = new Float32Array(nItems * dim);
  for (let i = 0; i < nItems; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const x = randomNormal(rng);
      data[i * dim + j] = x;
      norm += x * x;
    }
    for (let j = 0; j < dim; j++) data[i * dim + j] /= Math.sqrt(norm);
  }
  const w = new ArtifactWriter();
  w.scope('content').array('vectors', data);
  const { encoder: _encoder, ...defaults } = ContentBased.defaults;
  const state: JsonObject = {
    options: optionsToJson(defaults),
    encoder: { kind: 'minilm', options: optionsToJson(MiniLMEncoder.defaults), dim },
    vectors: 'dense',
    nItems,
    dim,
  };
  const r = ArtifactReader.open(w.toBytes(state));
  return ContentBased.load(state, r.scope('content'));
}

async function main(): Promise<void> {
  const skipModel = process.argv.includes('--skip-model');
  console.log(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}`);
  const { source, ids, catalog } = loadCatalog();
  const n = ids.length;
  console.log(`texts: ${source}`);
  const full = datasetOf(ids, catalog, n);
  const texts = Array.from({ length: n }, (_, i) => new ContentBased().itemText(full.catalog, i));

  console.log('\nencode');
  const tfidfTimes: number[] = [];
  let vocab = 0;
  for (let run = 0; run < 5; run++) {
    const enc = new TfidfEncoder();
    const t0 = performance.now();
    await enc.fit(texts);
    tfidfTimes.push(performance.now() - t0);
    vocab = enc.vocabulary.length;
  }
  console.log(`  TF-IDF fit+encode ${n} texts: median ${median(tfidfTimes).toFixed(0)} ms of 5 runs (vocabulary ${vocab} terms)`);

  if (skipModel) console.log('  tiny-random-bert: skipped (--skip-model)');
  else if (!existsSync(TINY)) console.log(`  tiny-random-bert: skipped, ${TINY} is missing`);
  else {
    const enc = new MiniLMEncoder({ model: 'test/tiny-random-bert', localModelPath: MODELS, dtype: 'fp32', batchSize: 64 });
    const t0 = performance.now();
    await enc.encode(['warm up']);
    const load = performance.now() - t0;
    const t1 = performance.now();
    await enc.encode(texts);
    const dt = performance.now() - t1;
    await enc.dispose();
    console.log(
      `  tiny-random-bert (a RANDOM 32-d, 1-layer test model, NOT MiniLM; real tokenizer + ONNX path) ${n} texts, batch 64: ` +
        `${(dt / 1000).toFixed(1)} s (${((1000 * dt) / n).toFixed(1)} us/text, one run), model load ${load.toFixed(0)} ms`,
    );
  }

  console.log(`\nscoring latency (${QUERIES} queries after ${WARMUP} warm-up; each query: 10 baskets x 10 uniformly random items)`);
  for (const size of [20_000, n]) {
    const data = datasetOf(ids, catalog, size);
    const tfidf = new ContentBased();
    await tfidf.fit(data);
    latency('TF-IDF (inverted index)', tfidf, size);
    if (size === n) {
      const w = new ArtifactWriter();
      const state = tfidf.save(w.scope('content'));
      const bytes = w.toBytes(state);
      const t0 = performance.now();
      const r = ArtifactReader.open(bytes);
      await ContentBased.load(r.root as JsonObject, r.scope('content'));
      console.log(`  TF-IDF artifact: ${(bytes.length / 1e6).toFixed(2)} MB, open + load ${(performance.now() - t0).toFixed(0)} ms`);
    }
    latency('dense 32-d (tiny-random-bert size)', await randomDense(size, 32), size);
    latency('dense 384-d (MiniLM size, random)', await randomDense(size, 384), size);
  }
  console.log(`\npeak-ish RSS at end: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
}

await main();
