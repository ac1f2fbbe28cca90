import type { AbstractGraph } from 'graphology-types';
import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { checkCsr, checkSymmetric, scopeName, StateReader, type LoadContext } from '../../artifact/validate';
import { CsrMatrix } from '../../data/csr';
import type { Dataset } from '../../data/dataset';
import { NotFittedError, OptionError } from '../../errors';
import type { JsonObject } from '../../util/json';
import { integer, number, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../../util/options';
import { loadOptional } from '../../util/optional';
import { TopK } from '../../util/topk';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
import { QuerySnapshot, sameValues } from '../query';
import type { Explanation, FitOptions, ItemNamer, Query, Recommender, ScoreVector } from '../types';
import { WEIGHTINGS, buildEdges, type GraphWeighting } from './build';
import { PushWorkspace, inverseStrengths } from './ppr';

export type { GraphWeighting } from './build';

export interface CoPurchaseGraphOptions {
  /**
   * Edge weight from the co-purchase count, see GraphWeighting (default 'cosine': best on
   * planted grocery data for basket completion and next basket; 'count' leans towards
   * popular items, which helps only on very sparse data).
   */
  edgeWeighting: GraphWeighting;
  /** Baskets two items must share to be linked (default 2): single co-purchases are mostly noise. */
  minCount: number;
  /** Heaviest edges kept per item before the graph is made undirected (default 50, as ItemKNN's neighbors; Infinity keeps all). */
  neighbors: number;
  /**
   * Probability that the walk jumps back to the query items at each step (default 0.5;
   * PageRank's damping alpha is 1 - restart). Higher keeps scores close to direct neighbors,
   * lower reaches further; on planted grocery data 0.4..0.7 ranked alike and 0.15 worse.
   */
  restart: number;
  /**
   * Push tolerance: a node spreads its residual mass once it exceeds epsilon x its degree
   * (default 1e-4). A query visits at most 1 / (restart x epsilon) edges. Measured: 1e-5
   * cost 1.0 ms p50 per query at 50k items (10k items touched) against 0.12 ms for 1e-4
   * (1.5k touched), for NDCG@10 0.3586 -> 0.3618 on P4-small and 0.0343 -> 0.0301 on P3.
   */
  epsilon: number;
  /**
   * Share of the restart mass put on the current basket when the query has both a history and
   * a basket (default 0.5). The cart says what the shopper is doing now, so it gets the same
   * mass as a whole purchase history.
   */
  basketShare: number;
}

/** A number in the open interval (0, 1). */
function openUnit(value: unknown, name: string): number {
  const v = number({ min: 0, max: 1, exclusiveMin: true })(value, name);
  if (v === 1) throw new OptionError(name, 'must be below 1, got 1');
  return v;
}

const CHECKS: OptionChecks<CoPurchaseGraphOptions> = {
  edgeWeighting: oneOf(WEIGHTINGS),
  minCount: integer({ min: 1 }),
  neighbors: integer({ min: 1, infinity: true }),
  restart: openUnit,
  epsilon: openUnit,
  basketShare: number({ min: 0, max: 1 }),
};

/** Node attributes of graph(). */
export interface ItemNodeAttributes {
  /** Item index. */
  item: number;
  name: string;
}

/** Edge attributes of graph(). */
export interface CoPurchaseEdgeAttributes {
  /** The edge weight (co-purchase count under the chosen weighting). */
  weight: number;
}

export type CentralityKind = 'pagerank' | 'degree' | 'weightedDegree' | 'betweenness';
const CENTRALITIES: readonly CentralityKind[] = ['pagerank', 'degree', 'weightedDegree', 'betweenness'];

/** What graph() returns: a graphology UndirectedGraph (typed by graphology-types, so the types need no graphology install). */
export type CoPurchaseGraphObject = AbstractGraph<ItemNodeAttributes, CoPurchaseEdgeAttributes>;
/** The part of the graphology module graph() uses (loaded at the call). */
type GraphologyModule = { UndirectedGraph: new <N extends object, E extends object>() => AbstractGraph<N, E> };
/** A graphology-metrics function over the item graph. */
type Metric<O> = (graph: CoPurchaseGraphObject, options?: O) => Record<string, number>;

/** Explanations cite at most this many query items. */
const MAX_EVIDENCE = 3;
/** Query items tried one by one when attributing a score reached only through long paths. */
const MAX_ATTRIBUTED_SOURCES = 16;

/**
 * Co-purchase graph: items are nodes, two items are linked when bought in the same basket,
 * with the (optionally normalized) co-purchase count as the edge weight. A query is scored by
 * personalized PageRank from its items (history weighted by purchase counts, the current
 * basket weighted up), so items reached through other items — bought with something bought
 * with what you have — score too, not just direct neighbors.
 *
 * The graph lives in a symmetric CSR (both directions of each edge), which is what scoring
 * walks. graph() builds a graphology UndirectedGraph from it on demand for analysis with the
 * graphology ecosystem; that object costs a few hundred bytes per edge (hundreds of MB at
 * 50k items x 50 neighbors), so it is never built during fit or scoring.
 */
export class CoPurchaseGraph implements Recommender {
  static readonly defaults: Readonly<CoPurchaseGraphOptions> = Object.freeze({
    edgeWeighting: 'cosine',
    minCount: 2,
    neighbors: 50,
    restart: 0.5,
    epsilon: 1e-4,
    basketShare: 0.5,
  });

  readonly kind = 'graph';
  readonly options: Readonly<CoPurchaseGraphOptions>;
  private edges: CsrMatrix | null = null;
  private invStrength: Float64Array | null = null;
  private workspace: PushWorkspace | null = null;
  /**
   * The walk of the last query scored or explained, kept so scoring a query and explaining the
   * k items of its recommendation walk once, not k + 1 times. Keyed by the restart
   * distribution itself (not the query object), so a changed query can never reuse a stale
   * walk. `workspace` is the scratch of explain()'s single-source walks and similarItems().
   */
  private explained: WalkMemo | null = null;
  /**
   * A copy of the query explain() last took `explained` from, and that memo: the ensemble
   * explains up to k items of one query, and an equal query (compared value by value in one
   * sequential pass) reuses the walk without deriving its restart distribution again, whose
   * scattered mass per history item was the largest part of a long history's explain.
   */
  private readonly explainedQuery = new QuerySnapshot();
  private explainedQueryMemo: WalkMemo | null = null;
  private sourceBuffer: Int32Array = new Int32Array(0);
  private massBuffer: Float64Array = new Float64Array(0);
  /** Restart mass per item of the query being assembled (0 elsewhere); cleared after use. */
  private massByItem: Float64Array = new Float64Array(0);
  /**
   * explain()'s view of the walk `marked` ran from, set at its first explain and kept for the
   * next ones: one bit per item that is a source (a bitmap of 6 KB at 50k items, which stays
   * in the first-level cache), and the source's restart mass by item (0 elsewhere).
   */
  private marked: WalkMemo | null = null;
  private sourceBits: Int32Array = new Int32Array(0);
  private sourceMass: Float64Array = new Float64Array(0);
  /** explain()'s two-step paths per query item (pathVia -1: none; reset after use), made at the first explain. */
  private paths: TwoStepPaths | null = null;

  constructor(options: Partial<CoPurchaseGraphOptions> = {}) {
    this.options = resolveOptions('CoPurchaseGraph', CoPurchaseGraph.defaults, options, CHECKS);
  }

  get fitted(): boolean {
    return this.edges !== null;
  }

  get nItems(): number {
    return this.requireEdges().nRows;
  }

  /** Number of undirected edges. */
  get nEdges(): number {
    return this.requireEdges().nnz / 2;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'CoPurchaseGraph');
    const { edgeWeighting, minCount, neighbors } = this.options;
    this.install(await buildEdges(data, { edgeWeighting, minCount, neighbors }, options));
  }

  private install(edges: CsrMatrix): void {
    const n = edges.nRows;
    this.edges = edges;
    this.invStrength = inverseStrengths(edges);
    this.workspace = new PushWorkspace(edges, this.invStrength);
    this.explained = null;
    this.explainedQueryMemo = null;
    this.explainedQuery.clear();
    this.sourceBuffer = new Int32Array(n);
    this.massBuffer = new Float64Array(n);
    this.massByItem = new Float64Array(n);
    this.marked = null;
    this.sourceBits = new Int32Array((n + 31) >>> 5);
    this.sourceMass = new Float64Array(n);
    this.paths = null;
  }

  private requireEdges(): CsrMatrix {
    if (this.edges === null) throw new NotFittedError('CoPurchaseGraph');
    return this.edges;
  }

  /** The neighbors of `item` (ascending index) and their edge weights, as views of the graph. */
  neighbors(item: number): { items: Int32Array; weights: Float32Array } {
    const g = this.requireEdges();
    this.checkItem(item, 'item');
    const start = g.indptr[item];
    const end = g.indptr[item + 1];
    return { items: g.indices.subarray(start, end), weights: g.values.subarray(start, end) };
  }

  /** Weight of the edge between two items, 0 when they are not linked. */
  edgeWeight(a: number, b: number): number {
    const g = this.requireEdges();
    this.checkItem(a, 'a');
    this.checkItem(b, 'b');
    return g.get(a, b);
  }

  score(query: Query, out: ScoreVector): void {
    checkScores(out, this.requireEdges().nRows, 'CoPurchaseGraph');
    const nSources = this.restartDistribution(query);
    if (nSources === 0) return;
    this.walkOf(nSources).walk.addScores(out, this.options.restart);
  }

  /**
   * Items most like `item` by co-purchase, best first: its direct neighbors by edge weight
   * ('neighbors', the default), or by personalized PageRank from the item alone ('ppr'),
   * which also ranks items two or more steps away. The item itself is never returned.
   */
  similarItems(item: number, k: number, method: 'neighbors' | 'ppr' = 'neighbors'): { items: Int32Array; scores: Float32Array } {
    const g = this.requireEdges();
    this.checkItem(item, 'item');
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be a non-negative integer, got ${k}`);
    const top = new TopK(k);
    if (method === 'neighbors') {
      for (let e = g.indptr[item]; e < g.indptr[item + 1]; e++) top.push(g.indices[e], g.values[e]);
    } else if (method === 'ppr') {
      const ws = this.workspace!;
      ws.run(Int32Array.of(item), Float64Array.of(1), this.options.restart, this.options.epsilon);
      for (let t = 0; t < ws.touchedCount; t++) {
        const v = ws.touched[t];
        const s = ws.score(v, this.options.restart);
        if (v !== item && s > 0) top.push(v, s);
      }
      ws.clear();
    } else {
      throw new OptionError('method', `must be 'neighbors' or 'ppr', got ${String(method)}`);
    }
    return top.sorted();
  }

  /**
   * Why `item` scored: the query items linked to it directly ("often in the same basket as
   * Pasta Sauce"), else the strongest two-step path ("connected through Spaghetti to Pasta
   * Sauce"), else the query items whose own walks reach it most. Evidence weights are each
   * query item's share of the walk mass along those paths.
   */
  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const g = this.requireEdges();
    checkItem(item, g.nRows, 'CoPurchaseGraph.explain');
    const memo = this.explainedWalk(query);
    if (memo === null) return null;
    const nSources = memo.sources.length;
    const ws = this.workspace!;
    const { restart, epsilon } = this.options;
    const { sources, masses: sourceMass, walk: explained } = memo;
    const score = Math.fround(explained.score(item, restart));
    if (!(score > 0)) return null;

    const { indptr, indices, values } = g;
    const inv = this.invStrength!;
    const walk = 1 - restart;
    // One step q -> item carries mass(q) (1 - restart) w(q, item) / strength(q). The query
    // items linked to `item`: its neighbors (ascending) whose bit is set. A popular item has
    // thousands of neighbors; a merge with the ascending query items took a mispredicted
    // branch per step of both lists (a long history has 800), and a lookup per neighbor in a
    // per-item mass array a cache miss per edge; the bitmap is read in order and in cache.
    if (this.marked !== memo) this.markSources(memo);
    const { sourceBits: bits, sourceMass: mass } = this;
    const direct: Evidence[] = [];
    for (let e = indptr[item], end = indptr[item + 1]; e < end; e++) {
      const q = indices[e];
      if (((bits[q >>> 5] >>> (q & 31)) & 1) !== 0) offer(direct, q, mass[q] * walk * values[e] * inv[q]);
    }
    if (direct.length > 0) return { score, reason: `often in the same basket as ${listNames(direct, name)}`, evidence: direct };

    this.paths ??= { pathWeight: new Float64Array(g.nRows), pathVia: new Int32Array(g.nRows).fill(-1), pathViaWeight: new Float64Array(g.nRows), pathItems: new Int32Array(g.nRows) };
    const { pathWeight, pathVia, pathViaWeight, pathItems } = this.paths!;
    let nPaths = 0;
    try {
      // Two steps q -> m -> item; w(m, item) = w(item, m) because the graph is symmetric.
      // Per query item: its total two-step mass and its strongest middle item, in per-item
      // arrays (a Map of records cost a hash lookup and an object per query item reached).
      for (let e = indptr[item]; e < indptr[item + 1]; e++) {
        const m = indices[e];
        const second = walk * values[e] * inv[m];
        for (let f = indptr[m]; f < indptr[m + 1]; f++) {
          const q = indices[f];
          if (((bits[q >>> 5] >>> (q & 31)) & 1) === 0) continue;
          const w = mass[q] * walk * values[f] * inv[q] * second;
          if (pathVia[q] < 0) {
            pathItems[nPaths++] = q;
            pathWeight[q] = w;
            pathVia[q] = m;
            pathViaWeight[q] = w;
          } else {
            pathWeight[q] += w;
            if (w > pathViaWeight[q]) {
              pathVia[q] = m;
              pathViaWeight[q] = w;
            }
          }
        }
      }
      if (nPaths > 0) {
        const evidence: Evidence[] = [];
        for (let k = 0; k < nPaths; k++) offer(evidence, pathItems[k], pathWeight[pathItems[k]]);
        const top = evidence[0].item;
        const via = name(pathVia[top]);
        // A query item reached by walking out and back: it scores through its own neighborhood.
        const reason = top === item ? `in your history and often bought with ${via}` : `connected through ${via} to ${name(top)}`;
        return { score, reason, evidence };
      }
      // Longer paths only: PPR is linear in the restart vector, so a unit walk from each query
      // item alone, times its restart mass, measures its share of the score. A unit walk
      // spreads at least as far as the item's part of the joint walk did; should the
      // tolerance still hide every share, the heaviest query items stand as evidence.
      const order = Array.from(sources.keys()).sort((a, b) => sourceMass[b] - sourceMass[a] || sources[a] - sources[b]);
      const unit = Float64Array.of(1);
      const evidence: Evidence[] = [];
      for (const k of order.slice(0, MAX_ATTRIBUTED_SOURCES)) {
        ws.run(sources.subarray(k, k + 1), unit, restart, epsilon);
        const share = sourceMass[k] * ws.score(item, restart);
        if (share > 0) offer(evidence, sources[k], share);
      }
      ws.clear();
      if (evidence.length === 0) for (const k of order) offer(evidence, sources[k], sourceMass[k]);
      return { score, reason: `linked through a chain of co-purchases to ${listNames(evidence, name)}`, evidence };
    } finally {
      for (let k = 0; k < nPaths; k++) pathVia[pathItems[k]] = -1;
    }
  }

  /** Points sourceBits and sourceMass at the sources of `memo`, clearing those of the walk marked before. */
  private markSources(memo: WalkMemo): void {
    const { sourceBits: bits, sourceMass: mass } = this;
    if (this.marked !== null) {
      for (const q of this.marked.sources) {
        bits[q >>> 5] = 0;
        mass[q] = 0;
      }
    }
    const { sources, masses } = memo;
    for (let k = 0; k < sources.length; k++) {
      const q = sources[k];
      bits[q >>> 5] |= 1 << (q & 31);
      mass[q] = masses[k];
    }
    this.marked = memo;
  }

  /** The walk explain() reads for `query`: the kept one for a query equal to the one it was taken for (see explainedQuery), else walkOf its restart distribution; null when that is empty. */
  private explainedWalk(query: Query): WalkMemo | null {
    const kept = this.explained;
    if (kept !== null && kept === this.explainedQueryMemo) {
      checkQuery(query, this.requireEdges().nRows, 'CoPurchaseGraph');
      if (this.explainedQuery.matches(query)) return kept;
    }
    const nSources = this.restartDistribution(query);
    if (nSources === 0) return null;
    const memo = this.walkOf(nSources);
    this.explainedQuery.take(query);
    this.explainedQueryMemo = memo;
    return memo;
  }

  /**
   * The push result of the restart distribution in sourceBuffer/massBuffer[0 .. nSources),
   * reusing the last walk when it is the same; the distribution is copied only when it is new.
   */
  private walkOf(nSources: number): WalkMemo {
    const sources = this.sourceBuffer.subarray(0, nSources);
    const masses = this.massBuffer.subarray(0, nSources);
    const last = this.explained;
    if (last !== null && sameValues(last.sources, sources) && sameValues(last.masses, masses)) return last;
    const walk = last?.walk ?? new PushWorkspace(this.edges!, this.invStrength!);
    walk.run(sources, masses, this.options.restart, this.options.epsilon);
    this.explained = { sources: sources.slice(), masses: masses.slice(), walk };
    return this.explained;
  }

  /** Fills the restart distribution of `query` into sourceBuffer/massBuffer; returns its size. */
  private restartDistribution(query: Query): number {
    checkQuery(query, this.requireEdges().nRows, 'CoPurchaseGraph');
    const mass = this.massByItem;
    const sources = this.sourceBuffer;
    const { items, weights } = query.history;
    let historyTotal = 0;
    for (let k = 0; k < items.length; k++) {
      const w = weights[k];
      if (w > 0) historyTotal += w;
    }
    const basket = query.basket;
    const hasBasket = basket.length > 0;
    const basketShare = historyTotal > 0 ? (hasBasket ? this.options.basketShare : 0) : hasBasket ? 1 : 0;
    let nSources = 0;
    // An item becomes a source at its first positive mass. Inline, not a closure made per call
    // (an allocation per score and per explained item; under tsx, esbuild's keepNames also
    // names each one with a defineProperty).
    if (historyTotal > 0 && basketShare < 1) {
      const scale = (1 - basketShare) / historyTotal;
      for (let k = 0; k < items.length; k++) {
        if (!(weights[k] > 0)) continue;
        const m = weights[k] * scale;
        if (m <= 0) continue;
        if (mass[items[k]] === 0) sources[nSources++] = items[k];
        mass[items[k]] += m;
      }
    }
    if (basketShare > 0) {
      const each = basketShare / basket.length;
      // A share that underflows to 0 adds no source.
      for (let k = 0; k < basket.length && each > 0; k++) {
        if (mass[basket[k]] === 0) sources[nSources++] = basket[k];
        mass[basket[k]] += each;
      }
    }
    const massList = this.massBuffer;
    for (let k = 0; k < nSources; k++) {
      massList[k] = mass[sources[k]];
      mass[sources[k]] = 0;
    }
    return nSources;
  }

  /**
   * The graph as a graphology UndirectedGraph, built now from the CSR (not cached: it costs a
   * few hundred bytes per edge, see the class note). Node keys are `id(item)` (default: the
   * index as a string); node attributes hold the index and `name(item)` (default: the key);
   * edges carry `weight`. Async: graphology is an optional peer dependency, loaded here (and in
   * centrality()) only, so scoring never loads it; without it, a MissingDependencyError.
   */
  async graph(lookup: { id?: (item: number) => string; name?: ItemNamer } = {}): Promise<CoPurchaseGraphObject> {
    const g = this.requireEdges();
    const { UndirectedGraph } = await loadOptional<GraphologyModule>('graphology', 'CoPurchaseGraph.graph()');
    const key = lookup.id ?? ((item: number) => String(item));
    const graph = new UndirectedGraph<ItemNodeAttributes, CoPurchaseEdgeAttributes>();
    const keys = new Array<string>(g.nRows);
    for (let i = 0; i < g.nRows; i++) {
      keys[i] = key(i);
      graph.addNode(keys[i], { item: i, name: lookup.name ? lookup.name(i) : keys[i] });
    }
    for (let i = 0; i < g.nRows; i++) {
      for (let e = g.indptr[i]; e < g.indptr[i + 1]; e++) {
        const j = g.indices[e];
        if (j > i) graph.addUndirectedEdge(keys[i], keys[j], { weight: g.values[e] });
      }
    }
    return graph;
  }

  /**
   * Centrality of every item (indexed by item), computed by graphology-metrics on graph():
   * - 'pagerank': weighted PageRank (alpha 0.85) over the whole graph
   * - 'degree': number of neighbors / (nItems - 1)
   * - 'weightedDegree': sum of edge weights
   * - 'betweenness': share of shortest paths (by hop count: weights are affinities, not
   *   distances) through the item; O(items x edges), for small graphs only.
   * Async: graphology and graphology-metrics (optional peer dependencies) are loaded here.
   */
  async centrality(kind: CentralityKind): Promise<Float64Array> {
    if (!(CENTRALITIES as readonly unknown[]).includes(kind)) {
      throw new OptionError('kind', `must be one of ${CENTRALITIES.join(', ')}, got ${String(kind)}`);
    }
    const graph = await this.graph();
    const metric = <T>(path: string): Promise<T> =>
      loadOptional<{ default: T }>(`graphology-metrics/${path}.js`, `CoPurchaseGraph.centrality('${kind}')`).then((m) => m.default);
    const out = new Float64Array(this.nItems);
    let byKey: Record<string, number>;
    switch (kind) {
      case 'pagerank':
        byKey = (await metric<Metric<{ getEdgeWeight: string; maxIterations: number }>>('centrality/pagerank'))(graph, { getEdgeWeight: 'weight', maxIterations: 1000 });
        break;
      case 'degree':
        byKey = (await metric<{ degreeCentrality: Metric<never> }>('centrality/degree')).degreeCentrality(graph);
        break;
      case 'weightedDegree': {
        const { weightedDegree } = await metric<{ weightedDegree: (g: CoPurchaseGraphObject, node: string, attribute: string) => number }>('node/weighted-degree');
        byKey = {};
        for (const node of graph.nodes()) byKey[node] = weightedDegree(graph, node, 'weight');
        break;
      }
      case 'betweenness':
        byKey = (await metric<Metric<{ getEdgeWeight: null }>>('centrality/betweenness'))(graph, { getEdgeWeight: null });
        break;
    }
    graph.forEachNode((node, attributes) => {
      out[attributes.item] = byKey[node];
    });
    return out;
  }

  save(out: SectionWriter): JsonObject {
    const g = this.requireEdges();
    out.array('indptr', g.indptr);
    out.array('indices', g.indices);
    out.array('weights', g.values);
    return { options: optionsToJson(this.options), nItems: g.nRows };
  }

  /** Rebuilds a saved graph: a symmetric nItems x nItems edge CSR without self loops, sorted unique neighbors per row, finite weights > 0; else an ArtifactError. */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): CoPurchaseGraph {
    const s = StateReader.of(state, scopeName(sections)).keys(['options', 'nItems']);
    const model = new CoPurchaseGraph(s.options('CoPurchaseGraph', CHECKS));
    const nItems = s.count('nItems', context?.nItems);
    const edges = { indptr: sections.i32('indptr'), indices: sections.i32('indices'), values: sections.f32('weights') };
    const names = { indptr: sections.fullName('indptr'), indices: sections.fullName('indices'), values: sections.fullName('weights') };
    checkCsr(edges, { nRows: nItems, nCols: nItems }, names, { values: { min: 0, exclusiveMin: true } });
    checkSymmetric(edges, names);
    model.install(new CsrMatrix(nItems, nItems, edges.indptr, edges.indices, edges.values));
    return model;
  }

  private checkItem(item: number, what: string): void {
    checkItem(item, this.requireEdges().nRows, 'CoPurchaseGraph', what);
  }
}

/** Per query item reached in two steps: its total path mass, its strongest middle item and that path's mass; pathItems lists them. */
interface TwoStepPaths {
  pathWeight: Float64Array;
  pathVia: Int32Array;
  pathViaWeight: Float64Array;
  pathItems: Int32Array;
}

/** A push walk with the restart distribution it ran from. */
interface WalkMemo {
  sources: Int32Array;
  masses: Float64Array;
  walk: PushWorkspace;
}

type Evidence = { item: number; weight: number };

/** Whether evidence (item, weight) ranks above b: the larger weight, ties to the lower item. */
function stronger(item: number, weight: number, b: Evidence): boolean {
  return weight > b.weight || (weight === b.weight && item < b.item);
}

/**
 * Offers a distinct item to `top`, the strongest evidence so far (at most MAX_EVIDENCE,
 * strongest first, ties to the lower index), by insertion into the few kept: an item linked
 * to hundreds of a long history's items made sorting them all a visible part of explain.
 * Only an item that enters gets an entry object: one per candidate was 18 KB of garbage per
 * explained recommendation at 200k x 50k (sampled), 7 KB now.
 */
function offer(top: Evidence[], item: number, weight: number): void {
  if (top.length === MAX_EVIDENCE && !stronger(item, weight, top[MAX_EVIDENCE - 1])) return;
  let i = Math.min(top.length, MAX_EVIDENCE - 1);
  while (i > 0 && stronger(item, weight, top[i - 1])) {
    top[i] = top[i - 1];
    i--;
  }
  top[i] = { item, weight };
}

function listNames(evidence: Array<{ item: number }>, name: ItemNamer): string {
  const names = evidence.map((e) => name(e.item));
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
