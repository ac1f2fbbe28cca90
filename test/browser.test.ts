/**
 * The browser demo in a real Chromium (Debian's, driven by playwright-core): the page loads a
 * serving artifact saved in Node (no customer data; the shoppers' orders come from
 * shoppers.json, the shop's database) and must compute exactly what Node computes from the same bytes, its
 * basket builder must work by clicking and typing, and a model saved in the page must be
 * byte-identical to Node's save and load back in Node.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, demoShoppers, fitDemoModel, heldOutMetrics, type DemoMetrics, type DemoShopper } from '../examples/browser/build';
import { serveStatic, type StaticServer } from '../examples/browser/serve';
import { HybridRecommender, type Recommendation, type Shopper } from '../src/index';
import { rewriteRoot } from '../src/artifact/rewrite';
import type { JsonObject } from '../src/util/json';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const title = hasChromium ? 'browser demo in Chromium' : `browser demo: chromium not installed (no ${CHROMIUM}): run scripts/ensure-chromium.sh`;
if (!hasChromium) console.warn(`skipping ${title}`);

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!hasChromium)(title, () => {
  let dir: string;
  let server: StaticServer;
  let context: BrowserContext;
  let page: Page;
  let artifact: Uint8Array;
  /** The reference: the same artifact loaded in Node. */
  let node: HybridRecommender;
  let metrics: DemoMetrics;
  /** shoppers.json: the shop's database of orders (the serving artifact holds none). */
  let shoppers: DemoShopper[];
  const problems: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hybridrec-browser-'));
    const site = join(dir, 'site');
    const fitted = await fitDemoModel({ users: 300, products: 250, seed: 11 });
    artifact = fitted.save({ customerData: false });
    shoppers = demoShoppers(fitted.dataset);
    await buildPage(site);
    await writeFile(join(site, 'model.hrec'), artifact);
    await writeFile(join(site, 'shoppers.json'), JSON.stringify(shoppers));
    metrics = await heldOutMetrics({ users: 300, products: 250, seed: 11 });
    await writeFile(join(site, 'metrics.json'), JSON.stringify(metrics));
    node = await HybridRecommender.load(artifact);
    server = await serveStatic(site);
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: LAUNCH_ARGS,
      acceptDownloads: true,
      viewport: { width: 1360, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 30_000 });
    const state = await page.evaluate(() => document.body.dataset.state);
    if (state !== 'ready') throw new Error(`page failed to load the model: ${await page.textContent('#status')} ${problems.join('; ')}`);
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ids = (recs: Recommendation[]) => recs.map((r) => r.item);
  const shownItems = (list: string) => page.$$eval(`${list} > li[data-item]`, (lis) => lis.map((li) => (li as HTMLElement).dataset.item!));
  const shownReasons = (list: string) => page.$$eval(`${list} > li[data-item] .reason`, (spans) => spans.map((s) => s.textContent ?? ''));
  /** The page writes reasons as sentences. */
  const sentences = (recs: Recommendation[]) => recs.map((r) => (r.reason ? r.reason[0].toUpperCase() + r.reason.slice(1) : ''));
  const shots = join(__dirname, '../.cache/screenshots');
  const shot = (name: string) => page.screenshot({ path: join(shots, `browser-${name}.png`), fullPage: true });
  const stored = (user: string) => shoppers.find((s) => s.id === user)!;
  /** The request for a shopper of shoppers.json: their orders (the serving model knows no ids). */
  const shopper = (user: string): Shopper => ({ baskets: stored(user).baskets, days: stored(user).days });
  const bought = (user: string) => new Set(stored(user).baskets.flat());
  const buyAgain = (rec: HybridRecommender, user: string) => rec.recommend(shopper(user), { k: 10, explain: true, list: 'buy-again' });
  const discover = (rec: HybridRecommender, s: Shopper) => rec.recommend(s, { k: 10, explain: true, list: 'discover' });
  /** The shopper the page opens with: the most orders. */
  const topShopper = () => {
    let best = 0;
    for (let u = 1; u < shoppers.length; u++) if (shoppers[u].baskets.length > shoppers[best].baskets.length) best = u;
    return shoppers[best].id;
  };
  const lastShopper = () => shoppers[shoppers.length - 1].id;

  it('loads the artifact with fetch and scores without the training dependencies', async () => {
    expect(requested).toContain('/model.hrec');
    expect(requested.filter((p) => !['/', '/main.js', '/model.hrec', '/shoppers.json', '/metrics.json'].includes(p))).toEqual([]);
    expect(node.customerData).toBe(false);
    expect(await page.textContent('#customer-data')).toContain('serving artifact: no customer data');
    expect(problems).toEqual([]);
    await shot('1-loaded');
  });

  it('computes exactly the recommendations Node computes from the same bytes', async () => {
    const users: Shopper[] = [...shoppers.slice(0, 4).map((s) => shopper(s.id)), shopper(lastShopper()), { history: [] }];
    const inBrowser = await page.evaluate(
      (us) => us.map((u) => window.__hybridrec!.recommend(u, { k: 10, explain: true })),
      users,
    );
    const inNode = users.map((u) => node.recommend(u, { k: 10, explain: true }));
    expect(inNode.every((r) => r.length === 10)).toBe(true);
    // Every weighted strategy took part, so each one's scoring is compared. Popularity is an
    // ensemble member here, so even the cold start { history: [] } gets k scored items and the fallback
    // filler (tested in hybrid.test.ts) has nothing to fill.
    // The weights are tuned (as npm run demo tunes them); every weighted strategy's scoring is compared.
    const contributors = new Set(inNode.flat().flatMap((r) => Object.keys(r.sources)));
    const weighted = node.strategyNames.filter((n) => node.strategyWeights[n] > 0);
    expect(node.tuning).not.toBeNull();
    expect(weighted.length).toBeGreaterThanOrEqual(3);
    for (const c of contributors) expect([...weighted, 'fallback']).toContain(c);
    expect(inBrowser).toEqual(inNode);

    const item = inNode[0][0].item;
    const basket = inNode[1].slice(0, 3).map((r) => r.item);
    const [similar, completed] = await page.evaluate(
      ([i, b]) => [window.__hybridrec!.similarItems(i, { k: 8, explain: true }), window.__hybridrec!.recommend({ basket: b }, { k: 8, explain: true })],
      [item, basket] as const,
    );
    expect(similar).toEqual(node.similarItems(item, { k: 8, explain: true }));
    expect(completed).toEqual(node.recommend({ basket }, { k: 8, explain: true }));
  });

  it('finds any shopper by id and shows past purchases beside buy-again and discover lists, reasons in words', async () => {
    const top = topShopper();
    expect(await shownItems('#buy-again')).toEqual(buyAgain(node, top).map((r) => r.item));
    // Any shopper, not a fixed dozen: the last one by index, found by typing its id.
    const user = lastShopper();
    await page.fill('#shopper-search', user);
    await page.click(`#shopper-results button[data-user="${user}"]`);
    expect(await page.textContent('#user-info')).toContain(`shopper ${user}:`);
    const again = buyAgain(node, user);
    expect(await shownItems('#buy-again')).toEqual(ids(again));
    expect(await shownReasons('#buy-again')).toEqual(sentences(again));
    const fresh = discover(node, shopper(user));
    expect(await shownItems('#discover')).toEqual(ids(fresh));
    expect(await shownReasons('#discover')).toEqual(sentences(fresh));
    for (const id of ids(fresh)) expect(bought(user).has(id)).toBe(false);
    const history = await shownItems('#history');
    expect(history.length).toBeGreaterThan(0);
    expect(history.every((id) => bought(user).has(id))).toBe(true);
    // A re-buy is never called popular, and a best seller's reason never claims the shopper's purchases.
    for (const reason of await shownReasons('#buy-again')) expect(reason).not.toMatch(/popular|best seller/i);
    expect(await page.textContent('#lists-note')).toContain("list: 'buy-again'");
    for (const id of ids(again)) expect(bought(user).has(id)).toBe(true);
    expect(await page.isVisible('#buy-again .sources')).toBe(false);
    await shot('2-shopper');

    await page.check('#show-scores');
    expect(await page.isVisible('#buy-again .sources')).toBe(true);
    await shot('3-raw-scores');
    await page.uncheck('#show-scores');

    await page.click('#cold-start');
    expect(await shownItems('#history')).toEqual([]);
    expect(await shownItems('#buy-again')).toEqual([]);
    expect(await shownItems('#discover')).toEqual(ids(discover(node, { history: [] })));
    await shot('4-cold-start');
    await page.click(`#shopper-results button[data-user="${user}"]`);
  });

  it('re-ranks every list live when a strategy weight slider moves, and resets to the tuned weights', async () => {
    const user = shopper(lastShopper());
    const tuned = node.strategyWeights;
    expect(await page.evaluate(() => window.__hybridrec!.weights())).toEqual(tuned);
    const sliders = await page.$$eval('#weights input[data-strategy]', (xs) => xs.map((x) => [(x as HTMLInputElement).dataset.strategy!, Number((x as HTMLInputElement).value)]));
    expect(Object.fromEntries(sliders)).toEqual(tuned);
    // Only popularity: the discover list becomes the best sellers this shopper has not bought.
    for (const name of node.strategyNames) await page.fill(`#weights input[data-strategy="${name}"]`, name === 'popularity' ? '1' : '0');
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    const weights = Object.fromEntries(node.strategyNames.map((n) => [n, n === 'popularity' ? 1 : 0]));
    expect(await page.evaluate(() => window.__hybridrec!.weights())).toEqual(weights);
    const reweighted = await HybridRecommender.load(rewriteRoot(artifact, (root) => ({ ...root, options: { ...(root.options as JsonObject), weights } })));
    expect(await shownItems('#discover')).toEqual(ids(discover(reweighted, user)));
    expect(ids(discover(reweighted, user))).not.toEqual(ids(discover(node, user)));
    await shot('5-reweighted');
    await page.click('#reset-weights');
    await page.waitForFunction((w) => JSON.stringify(window.__hybridrec!.weights()) === w, JSON.stringify(tuned));
    expect(await shownItems('#discover')).toEqual(ids(discover(node, user)));
  });

  it("shows each strategy's and the ensemble's held-out metrics as bars", async () => {
    expect(await page.textContent('#metrics-title')).toContain(`NDCG@10: ${metrics.protocol}`);
    const bars = await page.$$eval('#metrics .bar', (xs) => xs.map((x) => [(x as HTMLElement).dataset.ranker!, parseFloat((x as HTMLElement).style.width)]));
    expect(bars.map(([r]) => r)).toEqual([...node.strategyNames, 'ensemble']);
    const best = Math.max(...metrics.rows.map((r) => r.ndcg));
    for (const [ranker, width] of bars) expect(width).toBeCloseTo((100 * metrics.rows.find((r) => r.ranker === ranker)!.ndcg) / best, 0);
    // A user id is a typed error in the page too: the serving model knows no shoppers.
    const error = await page.evaluate((id) => {
      try {
        window.__hybridrec!.recommend(id);
        return 'no error';
      } catch (e) {
        return (e as Error).name;
      }
    }, topShopper());
    expect(error).toBe('NoCustomerDataError');
  });

  it('builds a basket by typing and clicking, with live suggestions and reasons', async () => {
    const totals = node.dataset.itemTotals();
    const top = totals.indexOf(Math.max(...totals));
    const first = node.dataset.items.id(top);
    await page.locator('#search').pressSequentially(node.dataset.catalog.name[top].toLowerCase());
    await page.click(`#search-results button.add[data-item="${first}"]`);
    expect(await shownItems('#cart')).toEqual([first]);
    let expected = node.recommend({ basket: [first] }, { k: 8, explain: true });
    expect(await shownItems('#suggestions')).toEqual(ids(expected));
    expect(await shownReasons('#suggestions')).toEqual(sentences(expected));

    const second = expected[0].item;
    await page.click(`#suggestions > li[data-item="${second}"] button.add`);
    expect(await shownItems('#cart')).toEqual([first, second]);
    expected = node.recommend({ basket: [first, second] }, { k: 8 });
    expect(await shownItems('#suggestions')).toEqual(ids(expected));
    expect(ids(expected)).not.toContain(first);
    expect(ids(expected)).not.toContain(second);

    await page.click(`#cart button.remove[data-item="${first}"]`);
    expect(await shownItems('#cart')).toEqual([second]);
    expect(await shownItems('#suggestions')).toEqual(ids(node.recommend({ basket: [second] }, { k: 8 })));
    await shot('6-basket');
  });

  it('shows similar items for a clicked product', async () => {
    const item = (await shownItems('#discover'))[0];
    await page.click(`#discover > li[data-item="${item}"] button.item`);
    expect(await page.textContent('#similar-title')).toContain(node.dataset.catalog.name[node.dataset.items.indexOf(item)]);
    const expected = node.similarItems(item, { k: 10, explain: true });
    expect(expected.length).toBeGreaterThan(0);
    expect(await shownItems('#similar-items')).toEqual(ids(expected));
    expect(await shownReasons('#similar-items')).toEqual(sentences(expected));
    await shot('7-similar');
  });

  it('saves the model in the page: the same bytes as Node, and they load back in Node', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-model')]);
    expect(download.suggestedFilename()).toBe('model.hrec');
    const downloaded = new Uint8Array(await readFile((await download.path())!));
    const fromHook = Buffer.from(await page.evaluate(() => {
      const bytes = window.__hybridrec!.save();
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
      return btoa(s);
    }), 'base64');

    const nodeBytes = node.save();
    expect(Buffer.from(downloaded).equals(Buffer.from(nodeBytes))).toBe(true);
    expect(fromHook.equals(Buffer.from(nodeBytes))).toBe(true);
    expect(Buffer.from(nodeBytes).equals(Buffer.from(artifact))).toBe(true);

    const back = await HybridRecommender.load(downloaded);
    expect(back.customerData).toBe(false);
    for (const user of shoppers.slice(0, 5).map((s) => shopper(s.id))) {
      expect(back.recommend(user, { k: 10, explain: true })).toEqual(node.recommend(user, { k: 10, explain: true }));
    }
  });

  it('opens a saved .hrec file picked in the page', async () => {
    const file = join(dir, 'picked.hrec');
    await writeFile(file, node.save());
    await page.setInputFiles('#open-model', file);
    await page.waitForFunction(() => document.getElementById('model-info')!.textContent!.startsWith('picked.hrec'));
    expect(await shownItems('#discover')).toEqual(ids(discover(node, shopper(topShopper()))));
    expect(await page.textContent('#metrics')).toContain('no metrics.json');
    expect(await shownItems('#cart')).toEqual([]);
    expect(problems).toEqual([]);
  });
});
