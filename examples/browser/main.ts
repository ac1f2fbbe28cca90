/**
 * The browser demo: loads a model artifact with fetch and scores everything in the page (no
 * server round trip). The model URL is `?model=...` (default `model.hrec` beside the page), a
 * serving artifact (saved with { customerData: false }: no user ids, no purchase histories).
 * The shoppers' orders come from `shoppers.json` beside it, standing in for the shop's own
 * database, and every request sends the shopper's orders along ({ baskets, days }); held-out
 * metrics come from `metrics.json` (examples/browser/build.ts writes all three). Tests drive it
 * through `window.__hybridrec`.
 */
import { HybridRecommender, type Recommendation, type RecommendOptions, type Shopper, type SimilarItemsOptions } from '../../src/index';
import { ArtifactReader } from '../../src/artifact/container';
import { rewriteRoot } from '../../src/artifact/rewrite';
import type { JsonObject } from '../../src/util/json';
import { demoShoppers, type DemoShopper } from './shoppers';

export interface DemoHook {
  recommend(shopper: Shopper, options?: Partial<RecommendOptions>): Recommendation[];
  similarItems(itemId: string, options?: Partial<SimilarItemsOptions>): Recommendation[];
  /** rec.save() of the model as loaded in this page (the tuned weights). */
  save(): Uint8Array;
  /** The weights every list is ranked with now (the sliders). */
  weights(): Record<string, number>;
}

declare global {
  interface Window {
    __hybridrec?: DemoHook;
  }
}

const SHOPPER_MATCHES = 12;
const HISTORY_ROWS = 15;
const SEARCH_ROWS = 8;
const K = 10;
const SUGGESTIONS = 8;
const REWEIGHT_DELAY_MS = 120;

interface DemoMetrics {
  protocol: string;
  k: number;
  queries: number;
  rows: Array<{ ranker: string; ndcg: number; recall: number; precision: number; hitRate: number }>;
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html lacks #${id}`);
  return node as T;
}

function el(tag: string, props: { class?: string; text?: string; title?: string; data?: Record<string, string> } = {}, ...children: Node[]): HTMLElement {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  for (const [k, v] of Object.entries(props.data ?? {})) node.dataset[k] = v;
  node.append(...children);
  return node;
}

const empty = (text: string) => el('li', {}, el('span', { class: 'empty', text }));

function setStatus(text: string, error = false): void {
  const status = byId('status');
  status.textContent = text;
  status.classList.toggle('error', error);
  status.hidden = text === '';
}

/** Everything the page shows for one loaded model. */
class Demo {
  private cart: string[] = [];
  /** The shopper shown: a shopper id, or null for a new shopper (cold start). */
  private user: string | null = null;
  private readonly lowerNames: string[];
  private readonly byId: Map<string, DemoShopper>;

  constructor(
    /** The recommender every list uses (rebuilt with the sliders' weights). */
    private rec: HybridRecommender,
    /** The artifact as loaded (its tuned weights). */
    private readonly artifact: Uint8Array,
    /** The shoppers and their orders (the shop's database; the model holds none of it). */
    private readonly shoppers: readonly DemoShopper[],
  ) {
    this.lowerNames = rec.dataset.catalog.name.map((n) => n.toLowerCase());
    this.byId = new Map(shoppers.map((s) => [s.id, s]));
  }

  /** The request for the shown shopper: their orders, sent along (the model knows no shoppers). */
  private request(): Shopper {
    const s = this.user === null ? undefined : this.byId.get(this.user);
    if (!s) return { history: [] };
    return s.days ? { baskets: s.baskets, days: s.days } : { baskets: s.baskets };
  }

  get recommender(): HybridRecommender {
    return this.rec;
  }

  start(loadMs: number, source: string): void {
    const data = this.rec.dataset;
    byId('model-info').textContent =
      `${source}: ${data.nItems.toLocaleString()} products, ${(this.artifact.byteLength / 1024).toFixed(0)} KiB, loaded in ${loadMs.toFixed(0)} ms; ${this.shoppers.length.toLocaleString()} shoppers`;
    const badge = byId('customer-data');
    const customerData = this.rec.customerData;
    badge.textContent = customerData
      ? `holds customer data (${data.nUsers.toLocaleString()} shoppers' ids and orders): save it with { customerData: false } before shipping it to browsers`
      : "serving artifact: no customer data; each shopper's orders come with the request";
    badge.classList.toggle('ok', !customerData);
    this.cart = [];
    byId<HTMLInputElement>('search').value = '';
    byId<HTMLInputElement>('shopper-search').value = '';
    // The shopper with the most orders first: their history gives the lists something to show.
    let first: DemoShopper | null = null;
    for (const s of this.shoppers) if (first === null || s.baskets.length > first.baskets.length) first = s;
    this.user = first ? first.id : null;
    this.showWeights();
    this.showShopperMatches();
    this.showSearch();
    this.refresh();
  }

  /** Re-renders every list (after a shopper, cart or weight change). */
  refresh(): void {
    this.showShopper();
    this.showBasket();
  }

  // ------------------------------------------------------------------ shopper search

  showShopperMatches(): void {
    const query = byId<HTMLInputElement>('shopper-search').value.trim().toLowerCase();
    const matches: number[] = [];
    const all = this.shoppers;
    for (let u = 0; u < all.length; u++) if (query === '' || all[u].id.toLowerCase().includes(query)) matches.push(u);
    // Exact id first, then the shoppers with the most orders.
    matches.sort((a, b) => Number(all[b].id.toLowerCase() === query) - Number(all[a].id.toLowerCase() === query) || all[b].baskets.length - all[a].baskets.length || a - b);
    const shown = matches.slice(0, SHOPPER_MATCHES).map((u) => {
      const id = all[u].id;
      const button = el('button', { class: id === this.user ? 'picked' : '', text: `${id} · ${all[u].baskets.length} orders`, data: { user: id } });
      button.addEventListener('click', () => this.pickShopper(id));
      return el('li', {}, button);
    });
    const more = matches.length - shown.length;
    if (matches.length === 0) shown.push(el('li', {}, el('span', { class: 'hint', text: `no shopper id contains "${query}"` })));
    else if (more > 0) shown.push(el('li', {}, el('span', { class: 'hint', text: `${more.toLocaleString()} more: type more of the id` })));
    byId('shopper-results').replaceChildren(...shown);
  }

  pickShopper(user: string | null): void {
    this.user = user;
    this.showShopperMatches();
    this.showShopper();
  }

  private showShopper(): void {
    const data = this.rec.dataset;
    const s = this.user === null ? undefined : this.byId.get(this.user);
    const history = byId('history');
    if (!s) {
      byId('user-info').textContent = 'new shopper: no purchase history (the explicit cold start)';
      history.replaceChildren(empty('nothing bought yet'));
    } else {
      const counts = new Map<string, number>();
      for (const b of s.baskets) for (const id of b) counts.set(id, (counts.get(id) ?? 0) + 1);
      const rows = [...counts].map(([id, count]) => ({ id, item: data.items.indexOf(id), count }));
      rows.sort((a, b) => b.count - a.count || a.item - b.item);
      byId('user-info').textContent = `shopper ${s.id}: ${s.baskets.length} orders, ${rows.length} distinct products`;
      const shown = rows.slice(0, HISTORY_ROWS).map(({ id, count }) => el('li', { data: { item: id } }, this.itemButton(id), el('span', { class: 'count', text: `×${count}` })));
      if (rows.length > HISTORY_ROWS) shown.push(empty(`and ${rows.length - HISTORY_ROWS} more`));
      history.replaceChildren(...shown);
    }
    const shopper = this.request();
    const buyAgain = this.user === null ? [] : this.rec.recommend(shopper, { k: K, explain: true, list: 'buy-again' });
    const discover = this.rec.recommend(shopper, { k: K, explain: true, list: 'discover' });
    byId('buy-again').replaceChildren(...(buyAgain.length ? buyAgain.map((r) => this.recommendationRow(r, false)) : [empty('nothing bought before')]));
    byId('discover').replaceChildren(...discover.map((r) => this.recommendationRow(r, false)));
  }

  // ------------------------------------------------------------------ weights

  private showWeights(): void {
    const tuned = this.tunedWeights();
    const current = this.rec.strategyWeights;
    const top = Math.max(1, ...Object.values(tuned));
    const cells: HTMLElement[] = [];
    for (const name of this.rec.strategyNames) {
      const slider = el('input', { title: `weight of ${name} (tuned: ${round(tuned[name])})`, data: { strategy: name } }) as HTMLInputElement;
      slider.type = 'range';
      slider.min = '0';
      slider.max = String(Math.ceil(2 * top));
      // 'any': the tuned weights sit exactly on the slider, whatever their grid.
      slider.step = 'any';
      slider.value = String(current[name]);
      const value = el('output', { text: round(current[name]) });
      slider.addEventListener('input', () => {
        value.textContent = round(Number(slider.value));
        scheduleReweight();
      });
      cells.push(el('label', { text: name }), slider, value);
    }
    byId('weights').replaceChildren(...cells);
  }

  /** The weights tuned at fit (those of the artifact as loaded). */
  tunedWeights(): Record<string, number> {
    const options = ((ArtifactReader.open(this.artifact).root as JsonObject).options ?? {}) as JsonObject;
    return { ...(options.weights as Record<string, number>) };
  }

  /** The sliders' weights. */
  sliderWeights(): Record<string, number> {
    const out: Record<string, number> = {};
    document.querySelectorAll<HTMLInputElement>('#weights input[data-strategy]').forEach((s) => (out[s.dataset.strategy!] = Number(s.value)));
    return out;
  }

  /** The same fitted model with other ensemble weights: the artifact's manifest rewritten, every section as it was. */
  async reweight(weights: Record<string, number>): Promise<void> {
    const bytes = rewriteRoot(this.artifact, (root) => ({ ...root, options: { ...(root.options as JsonObject), weights } }));
    this.rec = await HybridRecommender.load(bytes);
    this.refresh();
  }

  resetWeights(): void {
    void HybridRecommender.load(this.artifact).then((rec) => {
      this.rec = rec;
      this.showWeights();
      this.refresh();
      document.body.dataset.state = 'ready';
    });
  }

  // ------------------------------------------------------------------ metrics

  showMetrics(metrics: DemoMetrics | null): void {
    const box = byId('metrics');
    if (!metrics) {
      byId('metrics-title').textContent = 'Held-out quality';
      box.replaceChildren(el('span', { class: 'empty', text: 'no metrics.json beside the model (examples/browser/build.ts writes it)' }));
      return;
    }
    byId('metrics-title').textContent = `Held-out NDCG@${metrics.k}: ${metrics.protocol}, ${metrics.queries.toLocaleString()} shoppers`;
    const best = Math.max(...metrics.rows.map((r) => r.ndcg), 1e-9);
    const cells: HTMLElement[] = [];
    for (const r of metrics.rows) {
      const bar = el('div', { class: r.ranker === 'ensemble' ? 'bar ensemble' : 'bar', title: `recall@${metrics.k} ${round(r.recall)}, precision ${round(r.precision)}, hit rate ${round(r.hitRate)}`, data: { ranker: r.ranker } });
      bar.style.width = `${((100 * r.ndcg) / best).toFixed(1)}%`;
      cells.push(el('span', { text: r.ranker }), el('div', {}, bar), el('span', { class: 'value', text: round(r.ndcg) }));
    }
    box.replaceChildren(...cells);
  }

  // ------------------------------------------------------------------ basket builder, similar items

  showSearch(): void {
    const query = byId<HTMLInputElement>('search').value.trim().toLowerCase();
    const results = byId('search-results');
    if (query === '') {
      results.replaceChildren(empty('type part of a product name'));
      return;
    }
    const data = this.rec.dataset;
    const rows: HTMLElement[] = [];
    let matches = 0;
    for (let i = 0; i < this.lowerNames.length; i++) {
      if (!this.lowerNames[i].includes(query)) continue;
      matches++;
      if (rows.length < SEARCH_ROWS) {
        const id = data.items.id(i);
        rows.push(el('li', {}, this.itemButton(id), this.addButton(id), el('span', { class: 'dept', text: department(data.catalog, i) })));
      }
    }
    if (matches === 0) rows.push(empty('no product matches'));
    else if (matches > rows.length) rows.push(empty(`${matches - rows.length} more: refine the search`));
    results.replaceChildren(...rows);
  }

  showBasket(): void {
    byId('cart').replaceChildren(
      ...(this.cart.length === 0
        ? [empty('empty')]
        : this.cart.map((id) => {
            const remove = el('button', { class: 'add remove', text: '×', title: 'remove from the cart', data: { item: id } });
            remove.addEventListener('click', () => {
              this.cart = this.cart.filter((x) => x !== id);
              this.showBasket();
            });
            return el('li', { data: { item: id } }, this.itemButton(id), remove);
          })),
    );
    byId('suggestions-title').textContent = this.cart.length === 0 ? 'Popular to start with' : 'Complete the basket';
    const shopper: Shopper = this.cart.length === 0 ? { history: [] } : { basket: this.cart };
    const suggestions = this.rec.recommend(shopper, { k: SUGGESTIONS, explain: true });
    byId('suggestions').replaceChildren(...suggestions.map((r) => this.recommendationRow(r, true)));
  }

  showSimilar(itemId: string): void {
    byId('similar-title').textContent = `Bought with ${this.name(itemId)}`;
    const similar = this.rec.similarItems(itemId, { k: K, explain: true });
    byId('similar-items').replaceChildren(...(similar.length === 0 ? [empty('nothing scored')] : similar.map((r) => this.recommendationRow(r, true))));
  }

  private name(itemId: string): string {
    const data = this.rec.dataset;
    return data.catalog.name[data.items.indexOf(itemId)] || itemId;
  }

  private itemButton(itemId: string): HTMLElement {
    const button = el('button', { class: 'item', text: this.name(itemId), title: 'show similar items', data: { item: itemId } });
    button.addEventListener('click', () => this.showSimilar(itemId));
    return button;
  }

  private addButton(itemId: string): HTMLElement {
    const button = el('button', { class: 'add', text: '+ add', title: 'add to the cart', data: { item: itemId } });
    button.addEventListener('click', () => {
      if (!this.cart.includes(itemId)) this.cart.push(itemId);
      this.showBasket();
    });
    return button;
  }

  /** An item with its main reason in words; the score and each strategy's part only with "raw scores". */
  private recommendationRow(r: Recommendation, addable: boolean): HTMLElement {
    const chips = Object.entries(r.sources)
      .sort((a, b) => b[1] - a[1])
      .map(([strategy, c]) => el('span', { class: strategy === 'fallback' ? 'chip fallback' : 'chip', text: `${strategy} ${round(c)}` }));
    return el(
      'li',
      { data: { item: r.item } },
      this.itemButton(r.item),
      addable && !this.cart.includes(r.item) ? this.addButton(r.item) : el('span', { class: 'score', text: round(r.score) }),
      el('span', { class: 'reason', text: sentence(r.reason ?? '') }),
      el('span', { class: 'sources' }, ...chips),
    );
  }
}

function sentence(reason: string): string {
  return reason === '' ? '' : reason[0].toUpperCase() + reason.slice(1);
}

function department(catalog: { aisle: string[]; department: string[] }, i: number): string {
  return [catalog.department[i], catalog.aisle[i]].filter((x) => x !== '').join(' › ');
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) >= 10 ? 1 : 3);
}

let demo: Demo | null = null;
/** shoppers.json as loaded with the page. */
let pageShoppers: DemoShopper[] = [];
let reweightTimer: ReturnType<typeof setTimeout> | null = null;

/** Re-ranks with the sliders' weights shortly after the last move (body[data-state] is 'reweighting' meanwhile). */
function scheduleReweight(): void {
  document.body.dataset.state = 'reweighting';
  if (reweightTimer) clearTimeout(reweightTimer);
  reweightTimer = setTimeout(() => {
    reweightTimer = null;
    demo!.reweight(demo!.sliderWeights()).then(() => {
      if (reweightTimer === null) document.body.dataset.state = 'ready';
    }, fail);
  }, REWEIGHT_DELAY_MS);
}

/**
 * Opens a model. A serving artifact knows no shoppers: they come from `shoppers` (shoppers.json
 * beside the model: the shop's database); a model saved with customer data lists its own.
 */
async function open(bytes: Uint8Array, source: string, shoppers: readonly DemoShopper[] = []): Promise<void> {
  const t0 = performance.now();
  const rec = await HybridRecommender.load(bytes);
  demo = new Demo(rec, bytes, rec.customerData ? demoShoppers(rec.dataset) : shoppers);
  demo.start(performance.now() - t0, source);
  window.__hybridrec = {
    recommend: (shopper, options) => demo!.recommender.recommend(shopper, options),
    similarItems: (itemId, options) => demo!.recommender.similarItems(itemId, options),
    save: () => rec.save(),
    weights: () => demo!.recommender.strategyWeights,
  };
  setStatus('');
  document.body.dataset.state = 'ready';
}

function download(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = el('a') as HTMLAnchorElement;
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken its copy once click() returns; revoke on the next turn to be safe.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function fail(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  setStatus(message, true);
  document.body.dataset.state = 'error';
  console.error(error);
}

/** The shoppers' orders beside the model (the shop's database in this demo), [] when absent. */
async function loadShoppers(modelUrl: URL): Promise<DemoShopper[]> {
  const res = await fetch(new URL('shoppers.json', modelUrl));
  return res.ok ? ((await res.json()) as DemoShopper[]) : [];
}

async function loadMetrics(modelUrl: URL): Promise<DemoMetrics | null> {
  const res = await fetch(new URL('metrics.json', modelUrl));
  return res.ok ? ((await res.json()) as DemoMetrics) : null;
}

function wire(): void {
  byId('shopper-search').addEventListener('input', () => demo?.showShopperMatches());
  byId('cold-start').addEventListener('click', () => demo?.pickShopper(null));
  byId('search').addEventListener('input', () => demo?.showSearch());
  byId<HTMLInputElement>('show-scores').addEventListener('change', (e) => document.body.classList.toggle('show-scores', (e.target as HTMLInputElement).checked));
  byId('reset-weights').addEventListener('click', () => demo?.resetWeights());
  byId('save-model').addEventListener('click', () => {
    if (demo) download(window.__hybridrec!.save(), 'model.hrec');
  });
  byId<HTMLInputElement>('open-model').addEventListener('change', async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    setStatus(`Loading ${file.name}…`);
    try {
      // A picked serving artifact gets the page's shoppers (the same shop's database).
      await open(new Uint8Array(await file.arrayBuffer()), file.name, pageShoppers);
      demo!.showMetrics(null);
    } catch (error) {
      fail(error);
    }
  });
}

async function main(): Promise<void> {
  wire();
  const url = new URL(new URLSearchParams(location.search).get('model') ?? 'model.hrec', location.href);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetching ${url.pathname} failed: HTTP ${res.status} (build it with: npx tsx examples/browser/build.ts)`);
  pageShoppers = await loadShoppers(url);
  await open(new Uint8Array(await res.arrayBuffer()), url.pathname.split('/').pop() ?? 'model', pageShoppers);
  demo!.showMetrics(await loadMetrics(url));
}

main().catch(fail);
