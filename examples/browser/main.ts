/**
 * The browser demo: loads a model artifact with fetch and scores everything in the page
 * (no server round trip). The model URL is `?model=...` (default `model.hrec` beside the page).
 * Tests drive it through `window.__hybridrec`.
 */
import { HybridRecommender, type Recommendation, type RecommendOptions, type Shopper, type SimilarItemsOptions } from '../../src/index';

export interface DemoHook {
  recommend(shopper: Shopper, options?: Partial<RecommendOptions>): Recommendation[];
  similarItems(itemId: string, options?: Partial<SimilarItemsOptions>): Recommendation[];
  /** rec.save() of the model as loaded in this page. */
  save(): Uint8Array;
}

declare global {
  interface Window {
    __hybridrec?: DemoHook;
  }
}

const SHOWN_USERS = 12;
const HISTORY_ROWS = 15;
const SEARCH_ROWS = 8;
const K = 10;
const SUGGESTIONS = 8;

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

function setStatus(text: string, error = false): void {
  const status = byId('status');
  status.textContent = text;
  status.classList.toggle('error', error);
  status.hidden = text === '';
}

/** Everything the page shows for one loaded model. */
class Demo {
  private cart: string[] = [];
  private readonly lowerNames: string[];

  constructor(private readonly rec: HybridRecommender) {
    this.lowerNames = rec.dataset.catalog.name.map((n) => n.toLowerCase());
  }

  start(artifactBytes: number, loadMs: number, source: string): void {
    const data = this.rec.dataset;
    const weights = Object.entries(this.rec.strategyWeights).map(([n, w]) => `${n} ${round(w)}`).join(', ');
    byId('model-info').textContent =
      `${source}: ${data.nUsers.toLocaleString()} shoppers, ${data.nItems.toLocaleString()} products, ` +
      `${(artifactBytes / 1024).toFixed(0)} KiB, loaded in ${loadMs.toFixed(0)} ms — weights: ${weights}`;
    this.cart = [];
    this.fillUserPicker();
    (byId<HTMLInputElement>('search')).value = '';
    this.showSearch();
    this.showBasket();
    this.showUser();
  }

  /** The shoppers with the most orders: their histories give the recommendations something to work with. */
  private fillUserPicker(): void {
    const data = this.rec.dataset;
    const ptr = data.baskets.userPtr;
    const order = Array.from({ length: data.nUsers }, (_, u) => u);
    const orders = (u: number) => ptr[u + 1] - ptr[u];
    order.sort((a, b) => orders(b) - orders(a) || a - b);
    const select = byId<HTMLSelectElement>('user');
    select.replaceChildren(
      ...order.slice(0, SHOWN_USERS).map((u) => {
        const option = el('option', { text: `shopper ${data.users.id(u)} (${orders(u)} orders)` }) as HTMLOptionElement;
        option.value = data.users.id(u);
        return option;
      }),
    );
    const cold = el('option', { text: 'new shopper (cold start)' }) as HTMLOptionElement;
    cold.value = '';
    select.append(cold);
  }

  showUser(): void {
    const data = this.rec.dataset;
    const userId = byId<HTMLSelectElement>('user').value;
    const u = userId === '' ? -1 : data.users.indexOf(userId);
    const history = byId('history');
    if (u < 0) {
      byId('user-info').textContent = 'no purchase history: the fallback ranks for them';
      history.replaceChildren(el('li', {}, el('span', { class: 'empty', text: 'nothing bought yet' })));
    } else {
      const m = data.interactions;
      const rows: Array<{ item: number; count: number }> = [];
      for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) rows.push({ item: m.indices[p], count: m.values[p] });
      rows.sort((a, b) => b.count - a.count || a.item - b.item);
      const orders = data.baskets.userPtr[u + 1] - data.baskets.userPtr[u];
      byId('user-info').textContent = `${orders} orders, ${rows.length} distinct products`;
      const shown = rows.slice(0, HISTORY_ROWS).map(({ item, count }) =>
        el('li', { data: { item: data.items.id(item) } }, this.itemButton(data.items.id(item)), el('span', { class: 'count', text: `×${count}` })),
      );
      if (rows.length > HISTORY_ROWS) shown.push(el('li', {}, el('span', { class: 'empty', text: `and ${rows.length - HISTORY_ROWS} more` })));
      history.replaceChildren(...shown);
    }
    const options = { k: K, explain: true };
    // No shopper picked: the explicit cold start, answered by the fallback.
    const recs = this.rec.recommend(userId === '' ? { history: [] } : userId, options);
    byId('recommendations').replaceChildren(...recs.map((r) => this.recommendationRow(r, false)));
  }

  showSearch(): void {
    const query = byId<HTMLInputElement>('search').value.trim().toLowerCase();
    const results = byId('search-results');
    if (query === '') {
      results.replaceChildren(el('li', {}, el('span', { class: 'empty', text: 'type part of a product name' })));
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
    if (matches === 0) rows.push(el('li', {}, el('span', { class: 'empty', text: 'no product matches' })));
    else if (matches > rows.length) rows.push(el('li', {}, el('span', { class: 'empty', text: `${matches - rows.length} more: refine the search` })));
    results.replaceChildren(...rows);
  }

  showBasket(): void {
    const cart = byId('cart');
    cart.replaceChildren(
      ...(this.cart.length === 0
        ? [el('li', {}, el('span', { class: 'empty', text: 'empty' }))]
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
    const suggestions = this.rec.recommend({ basket: this.cart }, { k: SUGGESTIONS, explain: true });
    byId('suggestions').replaceChildren(...suggestions.map((r) => this.recommendationRow(r, true)));
  }

  showSimilar(itemId: string): void {
    byId('similar-title').textContent = `Bought with ${this.name(itemId)}`;
    const similar = this.rec.similarItems(itemId, { k: K, explain: true });
    byId('similar-items').replaceChildren(
      ...(similar.length === 0 ? [el('li', {}, el('span', { class: 'empty', text: 'nothing scored' }))] : similar.map((r) => this.recommendationRow(r, true))),
    );
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

  private recommendationRow(r: Recommendation, addable: boolean): HTMLElement {
    const chips = Object.entries(r.sources)
      .sort((a, b) => b[1] - a[1])
      .map(([strategy, c]) => el('span', { class: strategy === 'fallback' ? 'chip fallback' : 'chip', text: `${strategy} ${round(c)}` }));
    return el(
      'li',
      { data: { item: r.item } },
      this.itemButton(r.item),
      addable && !this.cart.includes(r.item) ? this.addButton(r.item) : el('span', { class: 'score', text: round(r.score) }),
      el('span', { class: 'reason', text: r.reason ?? '' }),
      el('span', { class: 'sources' }, ...chips),
    );
  }
}

function department(catalog: { aisle: string[]; department: string[] }, i: number): string {
  return [catalog.department[i], catalog.aisle[i]].filter((x) => x !== '').join(' › ');
}

function round(x: number): string {
  return x.toFixed(3);
}

let demo: Demo | null = null;
let current: HybridRecommender | null = null;

async function open(bytes: Uint8Array, source: string): Promise<void> {
  const t0 = performance.now();
  const rec = await HybridRecommender.load(bytes);
  current = rec;
  demo = new Demo(rec);
  demo.start(bytes.byteLength, performance.now() - t0, source);
  window.__hybridrec = {
    recommend: (shopper, options) => rec.recommend(shopper, options),
    similarItems: (itemId, options) => rec.similarItems(itemId, options),
    save: () => rec.save(),
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

function wire(): void {
  byId('user').addEventListener('change', () => demo?.showUser());
  byId('search').addEventListener('input', () => demo?.showSearch());
  byId('save-model').addEventListener('click', () => {
    if (current) download(current.save(), 'model.hrec');
  });
  byId<HTMLInputElement>('open-model').addEventListener('change', async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    setStatus(`Loading ${file.name}…`);
    try {
      await open(new Uint8Array(await file.arrayBuffer()), file.name);
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
  await open(new Uint8Array(await res.arrayBuffer()), url.pathname.split('/').pop() ?? 'model');
}

main().catch(fail);
