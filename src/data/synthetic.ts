import { OptionError } from '../errors';
import { describe, resolveOptions, type OptionChecks } from '../util/options';
import { deriveSeed, mulberry32, randomNormal, shuffleInPlace, type Rng } from '../util/random';
import { GrowableColumn } from './csv';
import { EVAL_SETS, type InstacartEvalSet, type InstacartTables } from './instacart';

/**
 * A seeded synthetic grocery shop in Instacart's table shapes, with the structure real shops
 * have, so that every strategy has something true to find:
 * - aisles of a real grocery taxonomy whose product names share words (text similarity);
 * - Zipf popularity within aisles on top of skewed aisle popularity (popularity baselines);
 * - shoppers with a persona, a few favourite aisles (Dirichlet weights) and personal staples
 *   re-bought with high per-order probability, plus habitual re-buys of anything bought before
 *   (repeat purchase: ~60% of lines are reorders after the first orders, as on Instacart);
 * - planted complements across aisles (pasta + pasta sauce + parmesan, chips + salsa...) added
 *   with high conditional probability (association rules, co-purchase graph, item-kNN);
 * - Instacart's timing: 4..100 orders per user (skewed), per-user cadence with gaps capped at
 *   30 days, day of week advancing with the gaps, daytime hours, mean basket ~10.
 * Everything comes from mulberry32 streams derived from `seed`: the same options give
 * byte-identical tables. Lines are written into growable typed arrays, so 200k users and 50k
 * products (~3M orders, ~30M lines) fit in well under 3 GB.
 */

export interface SyntheticOptions {
  /** Shoppers, user_id 1..users. Default 1000. */
  users: number;
  /** Catalog size, product_id 1..products. Default 2000. */
  products: number;
  /** Seed of every draw. Default 42. */
  seed: number;
  /**
   * Aisles, taken from the built-in grocery taxonomy (core aisles first); departments follow
   * from them. Default round(0.6 * sqrt(products)), between 1 and min(products, AISLE_COUNT).
   */
  aisles: number;
  /** Mean orders per user (Instacart: ~16). Default 15. */
  meanOrdersPerUser: number;
  /** Fewest orders of a user (Instacart: 4). Default 4. */
  minOrdersPerUser: number;
  /** Most orders of a user (Instacart: 100). Default 100. */
  maxOrdersPerUser: number;
  /** Mean lines per order (Instacart: ~10). Default 10. */
  meanBasketSize: number;
  /** Mean number of personal staples per user. Default 8. */
  meanStaplesPerUser: number;
  /** Planted complement groups (pairs and triples across aisles). Default max(4, round(products / 100)). */
  complementGroups: number;
  /** Chance that buying one member of a complement group adds each other member. Default 0.6. */
  complementProbability: number;
  /** Zipf exponent of product popularity within an aisle. Default 1. */
  zipfExponent: number;
  /** Eval set of each user's last order: 'train' (Kaggle; lines kept), 'test' (no lines) or 'prior'. Default 'train'. */
  lastOrderEvalSet: InstacartEvalSet;
}

/** One list per user: the entries of user_id u are ids[ptr[u - 1] .. ptr[u]), with weights aligned. */
export interface UserLists {
  ptr: Int32Array;
  ids: Int32Array;
  weights: Float32Array;
}

/** The structure the generator planted, for tests and quality floors. */
export interface SyntheticTruth {
  /** Every pair of product ids within a planted complement group. */
  complements: Array<[number, number]>;
  /** The planted groups (2 or 3 product ids from different aisles). */
  complementGroups: number[][];
  /** Personal staples (product ids), weights = per-order probability of buying each. */
  staples: UserLists;
  /** Favourite aisles (aisle ids), weights = the user's share of aisle picks for each (summing to 1). */
  favouriteAisles: UserLists;
}

export interface SyntheticGrocery {
  tables: InstacartTables;
  truth: SyntheticTruth;
}

/** Instacart-shaped tables of a synthetic grocery shop (see the module comment). */
export function generateGrocery(options: Partial<SyntheticOptions> = {}): InstacartTables {
  return generateGroceryWithTruth(options).tables;
}

/** generateGrocery plus the planted ground truth. */
export function generateGroceryWithTruth(options: Partial<SyntheticOptions> = {}): SyntheticGrocery {
  const opts = resolveSyntheticOptions(options);
  const catalog = buildCatalog(opts);
  return generateOrders(opts, catalog);
}

/** The entries of one user_id in a truth list. */
export function userListOf(lists: UserLists, userId: number): { ids: Int32Array; weights: Float32Array } {
  const start = lists.ptr[userId - 1];
  const end = lists.ptr[userId];
  return { ids: lists.ids.subarray(start, end), weights: lists.weights.subarray(start, end) };
}

/** Each key as given: resolveSyntheticOptions checks every value (its defaults and ranges depend on each other). */
const asGiven = (value: unknown) => value as never;
const SYNTHETIC_KEYS: OptionChecks<Partial<SyntheticOptions>> = {
  users: asGiven,
  products: asGiven,
  seed: asGiven,
  aisles: asGiven,
  meanOrdersPerUser: asGiven,
  minOrdersPerUser: asGiven,
  maxOrdersPerUser: asGiven,
  meanBasketSize: asGiven,
  meanStaplesPerUser: asGiven,
  complementGroups: asGiven,
  complementProbability: asGiven,
  zipfExponent: asGiven,
  lastOrderEvalSet: asGiven,
};

/** Options with every default filled in, validated. */
export function resolveSyntheticOptions(given: Partial<SyntheticOptions> = {}): SyntheticOptions {
  // Known keys and a plain object through the one mechanism; the defaults below derive from each other.
  const options = resolveOptions<Partial<SyntheticOptions>>('generateGrocery', {}, given, SYNTHETIC_KEYS);
  const users = options.users ?? 1000;
  const products = options.products ?? 2000;
  checkInt('users', users, 1);
  checkInt('products', products, 1);
  const maxAisles = Math.min(products, AISLES.length);
  const aisles = options.aisles ?? Math.max(1, Math.min(maxAisles, Math.round(0.6 * Math.sqrt(products))));
  checkInt('aisles', aisles, 1, maxAisles);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new OptionError('seed', `must be an integer, got ${describe(seed)}`);
  const minOrders = options.minOrdersPerUser ?? 4;
  checkInt('minOrdersPerUser', minOrders, 1);
  const maxOrders = options.maxOrdersPerUser ?? 100;
  checkInt('maxOrdersPerUser', maxOrders, minOrders);
  const meanOrders = options.meanOrdersPerUser ?? Math.min(maxOrders, Math.max(minOrders, 15));
  checkNumber('meanOrdersPerUser', meanOrders, minOrders, maxOrders);
  const meanBasketSize = options.meanBasketSize ?? 10;
  checkNumber('meanBasketSize', meanBasketSize, 1, 1000);
  const meanStaples = options.meanStaplesPerUser ?? 8;
  checkNumber('meanStaplesPerUser', meanStaples, 0, products);
  const complementGroups = options.complementGroups ?? Math.max(4, Math.round(products / 100));
  checkInt('complementGroups', complementGroups, 0);
  const complementProbability = options.complementProbability ?? 0.6;
  checkNumber('complementProbability', complementProbability, 0, 1);
  const zipfExponent = options.zipfExponent ?? 1;
  checkNumber('zipfExponent', zipfExponent, 0, 10);
  const lastOrderEvalSet = options.lastOrderEvalSet ?? 'train';
  if (!EVAL_SETS.includes(lastOrderEvalSet)) {
    throw new OptionError('lastOrderEvalSet', `must be "prior", "train" or "test", got ${describe(lastOrderEvalSet)}`);
  }
  const totalOrdersBound = users * maxOrders;
  if (totalOrdersBound * meanBasketSize > 1.5e9) {
    throw new OptionError('users', `${users} users x ${maxOrders} orders x ${meanBasketSize} lines may exceed typed-array limits`);
  }
  return {
    users,
    products,
    seed,
    aisles,
    meanOrdersPerUser: meanOrders,
    minOrdersPerUser: minOrders,
    maxOrdersPerUser: maxOrders,
    meanBasketSize,
    meanStaplesPerUser: meanStaples,
    complementGroups,
    complementProbability,
    zipfExponent,
    lastOrderEvalSet,
  };
}

function checkInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionError(name, `must be an integer in ${min}..${max}, got ${describe(value)}`);
  }
}

function checkNumber(name: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new OptionError(name, `must be a number in ${min}..${max}, got ${describe(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Catalog

interface CatalogModel {
  tables: Pick<InstacartTables, 'departments' | 'aisles' | 'products'>;
  nAisles: number;
  /** Cumulative share of each aisle (index = aisle id - 1) in exploratory picks. */
  aisleCdf: Float64Array;
  /** Products of aisle a are slotProduct[slotStart[a] .. slotStart[a+1]) by popularity rank. */
  slotStart: Int32Array;
  slotProduct: Int32Array;
  /** Cumulative within-aisle Zipf share of each slot (the last slot of an aisle is 1). */
  slotCdf: Float64Array;
  /** Complement group of each product index, -1 for none; members of g are groupMembers[groupPtr[g] .. groupPtr[g+1]). */
  groupOf: Int32Array;
  groupPtr: Int32Array;
  groupMembers: Int32Array;
  /** Aisle indices of each persona that has any aisle in this catalog. */
  personaAisles: Int32Array[];
}

function buildCatalog(opts: SyntheticOptions): CatalogModel {
  const rng = mulberry32(deriveSeed(opts.seed, 'synthetic catalog'));
  const P = opts.products;
  const chosen = AISLES.slice(0, opts.aisles).sort((a, b) => (a.name < b.name ? -1 : 1));
  const A = chosen.length;
  const aisleIndexByName = new Map(chosen.map((a, i) => [a.name, i]));

  const departmentNames = DEPARTMENTS.filter((d) => chosen.some((a) => a.department === d));
  const departmentId = new Map(departmentNames.map((d, i) => [d, i + 1]));

  const aisleWeight = new Float64Array(A);
  const aisleShare = new Float64Array(A);
  for (let a = 0; a < A; a++) {
    aisleWeight[a] = chosen[a].weight * (0.75 + 0.5 * rng());
    aisleShare[a] = (0.5 + rng()) * Math.pow(chosen[a].weight, 0.25);
  }
  const aisleCdf = cumulative(aisleWeight);

  // Product counts per aisle: at least one each, the rest by share (largest remainders).
  const count = new Int32Array(A).fill(1);
  const rest = P - A;
  const shareSum = aisleShare.reduce((s, x) => s + x, 0);
  const remainder = new Float64Array(A);
  let given = 0;
  for (let a = 0; a < A; a++) {
    const exact = (rest * aisleShare[a]) / shareSum;
    count[a] += Math.floor(exact);
    given += Math.floor(exact);
    remainder[a] = exact - Math.floor(exact);
  }
  const byRemainder = Array.from({ length: A }, (_, a) => a).sort((x, y) => remainder[y] - remainder[x] || x - y);
  for (let k = 0; k < rest - given; k++) count[byRemainder[k]]++;

  const slotStart = new Int32Array(A + 1);
  for (let a = 0; a < A; a++) slotStart[a + 1] = slotStart[a] + count[a];

  // Product ids are a shuffle of the slots, so an id says nothing about aisle or rank.
  const slotProduct = new Int32Array(P);
  for (let s = 0; s < P; s++) slotProduct[s] = s;
  shuffleInPlace(slotProduct, rng);

  const slotCdf = new Float64Array(P);
  for (let a = 0; a < A; a++) {
    const zipf = Float64Array.from({ length: count[a] }, (_, rank) => Math.pow(rank + 1, -opts.zipfExponent));
    slotCdf.set(cumulative(zipf), slotStart[a]);
  }

  const productIds = new Int32Array(P);
  const productAisle = new Int32Array(P);
  const productDepartment = new Int32Array(P);
  const productName = new Array<string>(P);
  const usedNames = new Set<string>();
  for (let a = 0; a < A; a++) {
    const spec = chosen[a];
    const names = productNamer(spec, rng);
    for (let s = slotStart[a]; s < slotStart[a + 1]; s++) {
      const p = slotProduct[s];
      productIds[p] = p + 1;
      productAisle[p] = a + 1;
      productDepartment[p] = departmentId.get(spec.department)!;
      productName[p] = names(s - slotStart[a], usedNames);
    }
  }

  const { groupOf, groupPtr, groupMembers } = plantComplements(opts, aisleIndexByName, slotStart, slotProduct, slotCdf, rng);

  const personaAisles: Int32Array[] = [];
  for (const persona of PERSONAS) {
    const present = persona.aisles.map((n) => aisleIndexByName.get(n)).filter((a): a is number => a !== undefined);
    if (present.length > 0) personaAisles.push(Int32Array.from(present));
  }

  return {
    tables: {
      departments: { id: Int32Array.from(departmentNames, (_, i) => i + 1), name: departmentNames },
      aisles: { id: Int32Array.from(chosen, (_, i) => i + 1), name: chosen.map((a) => a.name) },
      products: { id: productIds, name: productName, aisleId: productAisle, departmentId: productDepartment },
    },
    nAisles: A,
    aisleCdf,
    slotStart,
    slotProduct,
    slotCdf,
    groupOf,
    groupPtr,
    groupMembers,
    personaAisles,
  };
}

/**
 * Names for the products of one aisle by rank: "<adjective> <noun> <variant>" (or variant
 * before noun) from a shuffled list of combinations, with a pack-size suffix once the
 * combinations run out or a name is taken.
 */
function productNamer(spec: AisleSpec, rng: Rng): (rank: number, used: Set<string>) => string {
  const adjectives = spec.adjectives.split('|');
  const nouns = spec.nouns.split('|');
  const variants = spec.variants.split('|');
  const combos = adjectives.length * nouns.length * variants.length;
  const order = new Int32Array(combos);
  for (let c = 0; c < combos; c++) order[c] = c;
  shuffleInPlace(order, rng);
  return (rank, used) => {
    let c = order[rank % combos];
    const v = variants[c % variants.length];
    c = Math.floor(c / variants.length);
    const n = nouns[c % nouns.length];
    const adjective = adjectives[Math.floor(c / nouns.length)];
    const base = (spec.variantFirst ? [adjective, v, n] : [adjective, n, v]).filter((w) => w !== '').join(' ');
    for (let round = Math.floor(rank / combos); ; round++) {
      const name = round === 0 ? base : `${base} ${packSuffix(round)}`;
      if (!used.has(name)) {
        used.add(name);
        return name;
      }
    }
  };
}

function packSuffix(round: number): string {
  return round <= PACK_SIZES.length ? PACK_SIZES[round - 1] : `Bundle of ${round - PACK_SIZES.length + 1}`;
}

/**
 * Complement groups follow the aisle-level rules (pasta + pasta sauce + cheese...), cycling
 * through the rules whose aisles are all present. Members come from the popular third of their
 * aisle (so the pairs have support), each product in at most one group.
 */
function plantComplements(
  opts: SyntheticOptions,
  aisleIndexByName: Map<string, number>,
  slotStart: Int32Array,
  slotProduct: Int32Array,
  slotCdf: Float64Array,
  rng: Rng,
): { groupOf: Int32Array; groupPtr: Int32Array; groupMembers: Int32Array } {
  const groupOf = new Int32Array(opts.products).fill(-1);
  const rules = COMPLEMENT_RULES.map((r) => r.map((n) => aisleIndexByName.get(n))).filter((r): r is number[] => r.every((a) => a !== undefined));
  const ptr = [0];
  const members: number[] = [];
  if (rules.length > 0) {
    for (let g = 0; g < opts.complementGroups; g++) {
      const rule = rules[g % rules.length];
      const picked: number[] = [];
      for (const a of rule) {
        const p = pickComplementMember(a, slotStart, slotProduct, slotCdf, groupOf, rng);
        if (p < 0) break;
        picked.push(p);
      }
      if (picked.length < rule.length) continue;
      const group = ptr.length - 1;
      for (const p of picked) {
        groupOf[p] = group;
        members.push(p);
      }
      ptr.push(members.length);
    }
  }
  return { groupOf, groupPtr: Int32Array.from(ptr), groupMembers: Int32Array.from(members) };
}

function pickComplementMember(a: number, slotStart: Int32Array, slotProduct: Int32Array, slotCdf: Float64Array, groupOf: Int32Array, rng: Rng): number {
  const start = slotStart[a];
  const top = Math.max(3, Math.ceil(0.3 * (slotStart[a + 1] - start)));
  const end = Math.min(slotStart[a + 1], start + top);
  // Square-root popularity: members spread over the head instead of all being the top product.
  let total = 0;
  for (let s = start; s < end; s++) if (groupOf[slotProduct[s]] < 0) total += Math.sqrt(slotShare(slotCdf, start, s));
  if (total === 0) return -1;
  let u = rng() * total;
  let last = -1;
  for (let s = start; s < end; s++) {
    if (groupOf[slotProduct[s]] >= 0) continue;
    last = slotProduct[s];
    u -= Math.sqrt(slotShare(slotCdf, start, s));
    if (u < 0) break;
  }
  return last;
}

function slotShare(slotCdf: Float64Array, aisleStart: number, s: number): number {
  return s === aisleStart ? slotCdf[s] : slotCdf[s] - slotCdf[s - 1];
}

// ---------------------------------------------------------------------------------------------
// Users and orders

function generateOrders(opts: SyntheticOptions, catalog: CatalogModel): SyntheticGrocery {
  const U = opts.users;
  const P = opts.products;

  // Order counts first, so the orders table and the order id shuffle are sized up front.
  const countRng = mulberry32(deriveSeed(opts.seed, 'synthetic order counts'));
  const orderCount = new Int32Array(U);
  const spread = opts.meanOrdersPerUser - opts.minOrdersPerUser;
  let nOrders = 0;
  for (let u = 0; u < U; u++) {
    // Lomax (Pareto II, shape 3, mean spread + 0.5 before the floor) excess over the minimum, as
    // on Instacart: the fewest orders are the most common, the median is ~10 for a mean of 15,
    // and ~0.6% of users reach the cap of 100.
    const excess = (2 * spread + 1) * (Math.pow(1 - countRng(), -1 / 3) - 1);
    orderCount[u] = Math.min(opts.maxOrdersPerUser, opts.minOrdersPerUser + Math.floor(excess));
    nOrders += orderCount[u];
  }

  // Kaggle's order ids are unrelated to time: a shuffle of 1..nOrders.
  const orderId = new Int32Array(nOrders);
  for (let o = 0; o < nOrders; o++) orderId[o] = o + 1;
  shuffleInPlace(orderId, mulberry32(deriveSeed(opts.seed, 'synthetic order ids')));
  const userId = new Int32Array(nOrders);
  const evalSet = new Uint8Array(nOrders);
  const orderNumber = new Int32Array(nOrders);
  const orderDow = new Uint8Array(nOrders);
  const orderHour = new Uint8Array(nOrders);
  const daysSince = new Float32Array(nOrders);
  const lastEvalCode = EVAL_SETS.indexOf(opts.lastOrderEvalSet);

  const rng = mulberry32(deriveSeed(opts.seed, 'synthetic shoppers'));
  const cart = new CartWriter(catalog, P, opts.complementProbability, rng, Math.ceil(nOrders * opts.meanBasketSize * 1.1) + 1024);
  const shopper = new Shopper(catalog, P, rng);
  const staples = new UserListBuilder(U, Math.ceil(U * (opts.meanStaplesPerUser + 1)));
  const favourites = new UserListBuilder(U, U * MAX_FAVOURITES);
  let o = 0;

  for (let u = 0; u < U; u++) {
    const n = orderCount[u];
    shopper.draw(u, opts.meanStaplesPerUser);
    for (let k = 0; k < shopper.nFavourites; k++) favourites.push(shopper.favouriteAisle[k] + 1, shopper.favouriteWeight[k]);
    favourites.endUser();
    for (let s = 0; s < shopper.nStaples; s++) staples.push(shopper.stapleItem[s] + 1, shopper.stapleProbability[s]);
    staples.endUser();

    const basketMean = opts.meanBasketSize * Math.exp(0.45 * randomNormal(rng) - 0.101);
    // Heavy shoppers order more often (Instacart: gaps shrink with order count).
    const cadence = Math.min(40, Math.max(0.5, 10 * Math.exp(0.7 * randomNormal(rng)) * Math.pow(opts.meanOrdersPerUser / n, 0.4)));
    let dow = pickFrom(DOW_SHARE, rng);
    const hourPref = pickFrom(HOUR_SHARE, rng);
    cart.startUser(u);

    for (let k = 0; k < n; k++, o++) {
      const isLast = k === n - 1;
      userId[o] = u + 1;
      orderNumber[o] = k + 1;
      evalSet[o] = isLast ? lastEvalCode : 0;
      if (k === 0) daysSince[o] = NaN;
      else {
        const gap = Math.min(30, Math.round(cadence * Math.exp(0.6 * randomNormal(rng) - 0.18)));
        daysSince[o] = gap;
        dow = (dow + gap) % 7;
      }
      orderDow[o] = dow;
      orderHour[o] = Math.min(23, Math.max(0, hourPref + Math.round(1.5 * randomNormal(rng))));
      cart.fill(orderId[o], 1 + poisson(rng, Math.max(0, basketMean - 1)), shopper);
      // A test order's lines are unknown, but drawing them keeps every other order the same
      // whatever lastOrderEvalSet says.
      if (isLast && lastEvalCode === 2) cart.dropLastBasket();
    }
  }

  const tables: InstacartTables = {
    ...catalog.tables,
    orders: { orderId, userId, evalSet, orderNumber, orderDow, orderHourOfDay: orderHour, daysSincePriorOrder: daysSince },
    orderProducts: cart.lines.trimmed(),
  };
  const complementGroups: number[][] = [];
  const complements: Array<[number, number]> = [];
  const { groupPtr, groupMembers } = catalog;
  for (let g = 0; g + 1 < groupPtr.length; g++) {
    const ids = Array.from(groupMembers.subarray(groupPtr[g], groupPtr[g + 1]), (p) => p + 1);
    complementGroups.push(ids);
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) complements.push([ids[i], ids[j]]);
  }
  return { tables, truth: { complements, complementGroups, staples: staples.build(), favouriteAisles: favourites.build() } };
}

const MAX_FAVOURITES = 6;

/** One shopper's tastes: favourite aisles, staples, and how they pick the rest of a basket. */
class Shopper {
  nFavourites = 0;
  readonly favouriteAisle = new Int32Array(MAX_FAVOURITES);
  readonly favouriteWeight = new Float64Array(MAX_FAVOURITES);
  private readonly favouriteCdf = new Float64Array(MAX_FAVOURITES);
  /** Share of exploratory picks made in the favourite aisles (the rest follow aisle popularity). */
  private favouriteShare = 0;
  /** Share of non-staple picks that re-buy something from the shopper's history. */
  habit = 0;
  nStaples = 0;
  stapleItem = new Int32Array(64);
  stapleProbability = new Float64Array(64);
  private readonly stapleOf: Int32Array;

  constructor(
    private readonly catalog: CatalogModel,
    nProducts: number,
    private readonly rng: Rng,
  ) {
    this.stapleOf = new Int32Array(nProducts).fill(-1);
  }

  draw(u: number, meanStaples: number): void {
    const { catalog, rng } = this;
    const { personaAisles, aisleCdf, nAisles } = catalog;
    // Favourite aisles: about half from a persona (aisles that go together), the rest by aisle
    // popularity; Dirichlet(1) weights.
    const want = Math.min(nAisles, 2 + Math.floor(rng() * (MAX_FAVOURITES - 1)));
    let f = 0;
    if (personaAisles.length > 0) {
      const persona = personaAisles[Math.floor(rng() * personaAisles.length)];
      const fromPersona = Math.min(persona.length, Math.ceil(want / 2));
      for (let tries = 0; f < fromPersona && tries < 8 * fromPersona; tries++) {
        const a = persona[Math.floor(rng() * persona.length)];
        if (!this.isFavourite(a, f)) this.favouriteAisle[f++] = a;
      }
    }
    for (let tries = 0; f < want && tries < 8 * want; tries++) {
      const a = pickIndex(aisleCdf, 0, nAisles, rng());
      if (!this.isFavourite(a, f)) this.favouriteAisle[f++] = a;
    }
    let sum = 0;
    for (let k = 0; k < f; k++) sum += this.favouriteWeight[k] = -Math.log(1 - rng());
    let run = 0;
    for (let k = 0; k < f; k++) {
      this.favouriteWeight[k] /= sum;
      run += this.favouriteWeight[k];
      this.favouriteCdf[k] = run;
    }
    this.favouriteCdf[f - 1] = 1;
    this.nFavourites = f;
    this.favouriteShare = 0.5 + 0.3 * rng();
    this.habit = 0.08 + 0.17 * rng();

    // Staples: mostly from favourite aisles, each with its own per-order probability.
    const wantStaples = Math.min(this.stapleOf.length, poisson(rng, meanStaples));
    if (wantStaples > this.stapleItem.length) {
      this.stapleItem = new Int32Array(wantStaples * 2);
      this.stapleProbability = new Float64Array(wantStaples * 2);
    }
    let s = 0;
    for (let tries = 0; s < wantStaples && tries < 10 * wantStaples; tries++) {
      const p = rng() < 0.75 ? this.favouritePick() : this.popularPick();
      if (this.stapleOf[p] === u) continue;
      this.stapleOf[p] = u;
      this.stapleItem[s] = p;
      this.stapleProbability[s++] = 0.3 + 0.5 * rng();
    }
    this.nStaples = s;
  }

  /** A product picked the way this shopper browses: favourite aisles or popular aisles. */
  explore(): number {
    return this.rng() < this.favouriteShare ? this.favouritePick() : this.popularPick();
  }

  private favouritePick(): number {
    const a = this.favouriteAisle[pickIndex(this.favouriteCdf, 0, this.nFavourites, this.rng())];
    return pickInAisle(this.catalog, a, this.rng());
  }

  private popularPick(): number {
    return pickInAisle(this.catalog, pickIndex(this.catalog.aisleCdf, 0, this.catalog.nAisles, this.rng()), this.rng());
  }

  private isFavourite(a: number, f: number): boolean {
    for (let k = 0; k < f; k++) if (this.favouriteAisle[k] === a) return true;
    return false;
  }
}

/** Writes baskets as order lines: staples, habitual re-buys and exploration, with planted complements. */
class CartWriter {
  readonly lines: LineBuffer;
  private readonly inBasket: Int32Array;
  private readonly boughtBy: Int32Array;
  private stapleOrder = new Int32Array(64);
  private serial = 0;
  private user = 0;
  private userStart = 0;
  private basketStart = 0;
  private orderId = 0;
  private size = 0;

  constructor(
    private readonly catalog: CatalogModel,
    nProducts: number,
    private readonly complementProbability: number,
    private readonly rng: Rng,
    capacity: number,
  ) {
    this.lines = new LineBuffer(capacity);
    this.inBasket = new Int32Array(nProducts).fill(-1);
    this.boughtBy = new Int32Array(nProducts).fill(-1);
  }

  startUser(u: number): void {
    this.user = u;
    this.userStart = this.lines.length;
  }

  fill(orderId: number, target: number, shopper: Shopper): void {
    const { rng, inBasket } = this;
    const serial = ++this.serial;
    this.orderId = orderId;
    this.size = 0;
    this.basketStart = this.lines.length;
    const history = this.basketStart - this.userStart;

    // Staples first, in a fresh order each time (Instacart carts start with the re-buys).
    const nStaples = shopper.nStaples;
    if (nStaples > this.stapleOrder.length) this.stapleOrder = new Int32Array(nStaples * 2);
    const order = this.stapleOrder;
    for (let s = 0; s < nStaples; s++) order[s] = s;
    shuffleInPlace(order.subarray(0, nStaples), rng);
    for (let s = 0; s < nStaples && this.size < target; s++) {
      const x = order[s];
      const p = shopper.stapleItem[x];
      if (rng() < shopper.stapleProbability[x] && inBasket[p] !== serial) this.add(p);
    }
    for (let tries = 0; this.size < target && tries < 4 * target + 8; tries++) {
      const p = history > 0 && rng() < shopper.habit ? this.lines.productId[this.userStart + Math.floor(rng() * history)] - 1 : shopper.explore();
      if (inBasket[p] !== serial) this.add(p);
    }
  }

  dropLastBasket(): void {
    this.lines.length = this.basketStart;
  }

  private add(p: number): void {
    this.addLine(p);
    const { groupOf, groupPtr, groupMembers } = this.catalog;
    const g = groupOf[p];
    if (g < 0) return;
    for (let m = groupPtr[g]; m < groupPtr[g + 1]; m++) {
      const q = groupMembers[m];
      if (this.inBasket[q] !== this.serial && this.rng() < this.complementProbability) this.addLine(q);
    }
  }

  private addLine(p: number): void {
    this.inBasket[p] = this.serial;
    this.lines.push(this.orderId, p + 1, ++this.size, this.boughtBy[p] === this.user ? 1 : 0);
    this.boughtBy[p] = this.user;
  }
}

/** Index drawn from a cumulative distribution cdf[start .. end) (its last entry is 1). */
function pickIndex(cdf: Float64Array, start: number, end: number, r: number): number {
  let lo = start;
  let hi = end - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo - start;
}

function pickInAisle(catalog: CatalogModel, a: number, r: number): number {
  const start = catalog.slotStart[a];
  return catalog.slotProduct[start + pickIndex(catalog.slotCdf, start, catalog.slotStart[a + 1], r)];
}

/** Order lines in growable typed columns (no object per line). */
class LineBuffer {
  orderId: Int32Array;
  productId: Int32Array;
  addToCartOrder: Int32Array;
  reordered: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.orderId = new Int32Array(capacity);
    this.productId = new Int32Array(capacity);
    this.addToCartOrder = new Int32Array(capacity);
    this.reordered = new Uint8Array(capacity);
  }

  push(orderId: number, productId: number, cartOrder: number, reordered: number): void {
    if (this.length === this.orderId.length) this.grow();
    const l = this.length++;
    this.orderId[l] = orderId;
    this.productId[l] = productId;
    this.addToCartOrder[l] = cartOrder;
    this.reordered[l] = reordered;
  }

  private grow(): void {
    const capacity = Math.ceil(this.orderId.length * 1.5) + 1024;
    const grown = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.orderId = grown(this.orderId, (n) => new Int32Array(n));
    this.productId = grown(this.productId, (n) => new Int32Array(n));
    this.addToCartOrder = grown(this.addToCartOrder, (n) => new Int32Array(n));
    this.reordered = grown(this.reordered, (n) => new Uint8Array(n));
  }

  /** Exact-length copies, one column at a time to bound the peak. */
  trimmed(): InstacartTables['orderProducts'] {
    const n = this.length;
    const orderId = this.orderId.slice(0, n);
    this.orderId = new Int32Array(0);
    const productId = this.productId.slice(0, n);
    this.productId = new Int32Array(0);
    const addToCartOrder = this.addToCartOrder.slice(0, n);
    this.addToCartOrder = new Int32Array(0);
    const reordered = this.reordered.slice(0, n);
    this.reordered = new Uint8Array(0);
    return { orderId, productId, addToCartOrder, reordered };
  }
}

class UserListBuilder {
  private readonly ids: GrowableColumn<Int32Array>;
  private readonly weights: GrowableColumn<Float32Array>;
  private readonly ptr: Int32Array;
  private users = 0;

  constructor(nUsers: number, capacity: number) {
    this.ptr = new Int32Array(nUsers + 1);
    this.ids = new GrowableColumn((n) => new Int32Array(n), Math.max(16, capacity));
    this.weights = new GrowableColumn((n) => new Float32Array(n), Math.max(16, capacity));
  }

  push(id: number, weight: number): void {
    this.ids.push(id);
    this.weights.push(weight);
  }

  endUser(): void {
    this.ptr[++this.users] = this.ids.length;
  }

  build(): UserLists {
    return { ptr: this.ptr, ids: this.ids.toArray(), weights: this.weights.toArray() };
  }
}

function cumulative(weights: Float64Array): Float64Array {
  const total = weights.reduce((s, x) => s + x, 0);
  const cdf = new Float64Array(weights.length);
  let run = 0;
  for (let i = 0; i < weights.length; i++) {
    run += weights[i];
    cdf[i] = run / total;
  }
  cdf[weights.length - 1] = 1;
  return cdf;
}

function pickFrom(shares: readonly number[], rng: Rng): number {
  let r = rng() * shares.reduce((s, x) => s + x, 0);
  for (let i = 0; i < shares.length - 1; i++) {
    r -= shares[i];
    if (r < 0) return i;
  }
  return shares.length - 1;
}

/** Poisson draw: Knuth's product method for small means, a rounded normal above 30. */
function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * randomNormal(rng)));
  const limit = Math.exp(-mean);
  let k = 0;
  let product = rng();
  while (product > limit) {
    k++;
    product *= rng();
  }
  return k;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary: Instacart's departments and aisles (core aisles first, so that small catalogs keep
// the complement rules and most departments), their share of lines, and name parts.

/** Department ids follow Instacart's order (without "other" and "missing"). */
const DEPARTMENTS = [
  'frozen',
  'bakery',
  'produce',
  'alcohol',
  'international',
  'beverages',
  'pets',
  'dry goods pasta',
  'bulk',
  'personal care',
  'meat seafood',
  'pantry',
  'breakfast',
  'canned goods',
  'dairy eggs',
  'household',
  'babies',
  'snacks',
  'deli',
];

interface AisleSpec {
  name: string;
  department: string;
  /** Relative share of exploratory picks (roughly Instacart's share of lines, per mille). */
  weight: number;
  /** '|'-separated name parts; an empty part means "none". */
  adjectives: string;
  nouns: string;
  variants: string;
  /** "Organic Marinara Pasta Sauce" rather than "Organic Pasta Sauce Marinara". */
  variantFirst?: boolean;
}

const aisle = (name: string, department: string, weight: number, adjectives: string, nouns: string, variants: string, variantFirst = false): AisleSpec => ({
  name,
  department,
  weight,
  adjectives,
  nouns,
  variants,
  variantFirst,
});

const AISLES: readonly AisleSpec[] = [
  aisle('fresh fruits', 'produce', 110, '|Organic|Fresh|Sweet|Ripe', 'Bananas|Strawberries|Hass Avocado|Blueberries|Raspberries|Gala Apples|Honeycrisp Apple|Red Grapes|Lemons|Limes|Navel Oranges|Bartlett Pears|Mango|Pineapple|Cherries|Peaches|Cantaloupe|Kiwi', '|Bag|Each|Bunch|Pack'),
  aisle('fresh vegetables', 'produce', 105, '|Organic|Fresh|Local|Green', 'Spinach|Carrots|Broccoli Crown|Yellow Onion|Garlic|Cucumber|Zucchini Squash|Red Bell Pepper|Jalapeno Pepper|Celery Hearts|Asparagus|Sweet Potato|Russet Potato|Roma Tomato|Kale|Cauliflower|Green Beans|Romaine Lettuce', '|Each|Bag|Pound|Bundle'),
  aisle('yogurt', 'dairy eggs', 45, '|Organic|Nonfat|Lowfat|Whole Milk|Icelandic Style', 'Greek Yogurt|Yogurt|Yogurt Cups|Yogurt Tubes|Skyr Yogurt|Drinkable Yogurt', '|Strawberry|Vanilla|Blueberry|Plain|Honey|Peach|Raspberry|Mixed Berry|Black Cherry|Coconut'),
  aisle('milk', 'dairy eggs', 27, '|Organic|Lactose Free|Grassfed|Ultra Filtered', 'Whole Milk|Reduced Fat Milk|2% Milk|Fat Free Milk|1% Lowfat Milk|Chocolate Milk|Vitamin D Milk', '|Half Gallon|Gallon|Quart|Pint'),
  aisle('packaged cheese', 'dairy eggs', 30, '|Organic|Shredded|Sliced|Grated|Finely Shredded', 'Cheddar Cheese|Mozzarella Cheese|Parmesan Cheese|Swiss Cheese|Pepper Jack Cheese|Colby Jack Cheese|Provolone Cheese|Mexican Blend Cheese|String Cheese', '|Sharp|Mild|Part Skim|Low Moisture|Reduced Fat|Extra Sharp', true),
  aisle('chips pretzels', 'snacks', 22, '|Kettle Cooked|Baked|Organic|Lightly Salted|Reduced Fat', 'Potato Chips|Tortilla Chips|Pita Chips|Pretzel Twists|Pretzel Crisps|Veggie Chips|Corn Chips|Sourdough Pretzels', '|Sea Salt|Salt Vinegar|Barbecue|Jalapeno|Cheddar Sour Cream|Original|Lime|Honey Mustard'),
  aisle('bread', 'bakery', 18, '|Organic|Whole Grain|Sprouted|Gluten Free|Thin Sliced', 'Bread|Sandwich Bread|Sourdough Bread|Rye Bread|Multigrain Bread|Wheat Bread|Cinnamon Raisin Bread|Baguette', '|Loaf|Honey Wheat|Seeded|Classic|Soft|Hearty'),
  aisle('cereal', 'breakfast', 12, '|Organic|Honey|Frosted|Whole Grain|Crunchy', 'Cereal|Oat Cereal|Granola Cereal|Bran Flakes|Corn Flakes|Rice Crisps Cereal|Toasted Oats|Puffs Cereal', '|Original|Cinnamon|Chocolate|Berry|Almond|Maple|Peanut Butter|Vanilla'),
  aisle('dry pasta', 'dry goods pasta', 6, '|Organic|Whole Wheat|Gluten Free|Protein Plus|Classic', 'Spaghetti Pasta|Penne Rigate Pasta|Rotini Pasta|Elbows Pasta|Fettuccine Pasta|Linguine Pasta|Farfalle Pasta|Rigatoni Pasta|Angel Hair Pasta|Lasagna Pasta', '|Thin|Thick Cut|Bronze Cut|Tricolor|Mini'),
  aisle('pasta sauce', 'dry goods pasta', 5, '|Organic|Classic|Premium|Homestyle|Light', 'Pasta Sauce|Sauce|Pasta Sauce Jar', 'Marinara|Tomato Basil|Roasted Garlic|Vodka|Arrabbiata|Four Cheese|Mushroom|Puttanesca|Traditional|Alfredo', true),
  aisle('preserved dips spreads', 'pantry', 4, '|Organic|Restaurant Style|Chunky|Thick', 'Salsa|Salsa Verde|Queso Dip|Bean Dip|Pico De Gallo|Artichoke Dip', '|Mild|Medium|Hot|Roasted|Chipotle|Mango'),
  aisle('water seltzer sparkling water', 'beverages', 26, '|Natural|Purified|Alkaline|Spring', 'Sparkling Water|Seltzer Water|Spring Water|Mineral Water|Drinking Water|Flavored Water', '|Lime|Lemon|Grapefruit|Berry|Unflavored|Orange|Cherry Lime|Coconut'),
  aisle('coffee', 'beverages', 7, '|Organic|Dark Roast|Medium Roast|Light Roast|Decaf', 'Ground Coffee|Whole Bean Coffee|Coffee K Cups|Cold Brew Coffee|Instant Coffee|Espresso', '|Colombian|French Roast|Breakfast Blend|House Blend|Italian Roast|Sumatra'),
  aisle('cream', 'dairy eggs', 7, '|Organic|Fat Free|Sugar Free|Barista', 'Half And Half|Heavy Whipping Cream|Coffee Creamer|Whipped Cream|Sour Cream|Light Cream', '|French Vanilla|Hazelnut|Original|Caramel|Sweet Cream|Pint'),
  aisle('eggs', 'dairy eggs', 15, '|Organic|Cage Free|Pasture Raised|Free Range|Omega 3', 'Large Eggs|Brown Eggs|Grade A Eggs|Extra Large Eggs|Liquid Egg Whites|Hard Boiled Eggs', '|Dozen|18 Count|Half Dozen|Jumbo'),
  aisle('hot dogs bacon sausage', 'meat seafood', 5, '|Uncured|Organic|Applewood Smoked|Hickory Smoked|Turkey', 'Beef Hot Dogs|Bacon|Breakfast Sausage|Italian Sausage|Chicken Sausage|Bratwurst|Franks|Kielbasa', '|Original|Thick Cut|Mild|Spicy|Links|Jumbo'),
  aisle('buns rolls', 'bakery', 3, '|Organic|Whole Wheat|Brioche|Potato|Sesame', 'Hot Dog Buns|Hamburger Buns|Dinner Rolls|Slider Buns|Kaiser Rolls|Sub Rolls', '|Classic|Soft|Bakery Fresh|Sweet|8 Count'),
  aisle('spreads', 'pantry', 5, '|Organic|Natural|Creamy|Crunchy|No Stir', 'Peanut Butter|Almond Butter|Strawberry Jam|Grape Jelly|Hazelnut Spread|Raspberry Preserves|Cashew Butter|Apricot Preserves', '|Classic|Unsalted|Honey|Reduced Sugar|Squeeze'),
  aisle('frozen meals', 'frozen', 12, '|Organic|Healthy|Lean|Family Size|Gluten Free', 'Frozen Burrito|Frozen Enchiladas|Frozen Lasagna|Mac And Cheese Bowl|Chicken Pot Pie|Frozen Dinner|Frozen Stir Fry|Frozen Bowl', '|Bean Cheese|Chicken|Beef|Vegetable|Teriyaki|Meat Lovers|Cheese'),
  aisle('ice cream ice', 'frozen', 15, '|Organic|Light|Dairy Free|Premium|Non Dairy', 'Ice Cream|Frozen Yogurt|Ice Cream Bars|Sorbet|Gelato|Fruit Bars|Ice Pops', '|Vanilla Bean|Chocolate|Cookies And Cream|Mint Chip|Strawberry|Salted Caramel|Coffee|Cookie Dough|Mango'),
  aisle('baby food formula', 'babies', 12, '|Organic|Stage 1|Stage 2|Stage 3|Infant', 'Baby Food Pouch|Baby Food|Infant Formula|Toddler Snacks|Baby Cereal|Baby Puffs', '|Apple Banana|Pear Spinach|Sweet Potato|Mango|Blueberry|Carrot|Oatmeal'),
  aisle('soft drinks', 'beverages', 13, '|Diet|Zero Sugar|Caffeine Free|Classic', 'Cola|Soda|Ginger Ale|Root Beer|Lemon Lime Soda|Orange Soda|Tonic Water|Club Soda', '|12 Pack|Cans|Bottle|Mini Cans|2 Liter'),
  aisle('crackers', 'snacks', 14, '|Organic|Whole Wheat|Multigrain|Gluten Free|Thin', 'Crackers|Water Crackers|Cheese Crackers|Graham Crackers|Rice Crackers|Saltine Crackers|Sandwich Crackers|Crispbread', '|Original|Sea Salt|Cracked Pepper|Rosemary|Cheddar|Honey|Sesame|Garlic Herb'),
  aisle('beers coolers', 'alcohol', 2, '|Craft|Imported|Light|Session', 'Lager|IPA|Pale Ale|Pilsner|Wheat Beer|Hard Seltzer|Stout|Hard Cider', '|6 Pack|12 Pack|Bottles|Cans|Variety Pack'),
  aisle('paper goods', 'household', 2, '|Ultra Soft|Recycled|Strong|Premium|Select A Size', 'Paper Towels|Toilet Paper|Facial Tissues|Napkins|Paper Plates|Bath Tissue', '|Double Rolls|Mega Rolls|Family Pack|Lotion|Unscented|2 Ply'),
  aisle('dog food care', 'pets', 1.2, '|Grain Free|Natural|Adult|Puppy|Senior', 'Dry Dog Food|Wet Dog Food|Dog Treats|Dog Biscuits|Dental Chews|Jerky Dog Treats', '|Chicken|Beef|Lamb Rice|Salmon|Turkey|Peanut Butter'),
  aisle('lunch meat', 'deli', 12, '|Organic|Oven Roasted|Honey|Smoked|Uncured|Low Sodium', 'Turkey Breast|Black Forest Ham|Roast Beef|Genoa Salami|Deli Chicken Breast|Pepperoni|Bologna|Prosciutto', '|Sliced|Deli Thin|Shaved|Ultra Thin|Family Pack'),
  aisle('packaged vegetables fruits', 'produce', 54, '|Organic|Fresh|Baby|Spring', 'Salad Mix|Baby Spinach|Mixed Greens|Spring Mix|Baby Carrots|Kale Salad|Broccoli Florets|Grape Tomatoes|Arugula|Coleslaw', '|Bag|Clamshell|Family Size|Blend|Tub'),
  aisle('salad dressing toppings', 'pantry', 3, '|Organic|Light|Fat Free|Classic|Vegan', 'Dressing|Salad Dressing|Vinaigrette|Croutons|Salad Toppers', 'Ranch|Balsamic|Caesar|Italian|Blue Cheese|Thousand Island|Honey Mustard|Greek|Lemon Tahini', true),
  aisle('tortillas flat bread', 'bakery', 5, '|Organic|Whole Wheat|Low Carb|Gluten Free|Sprouted', 'Flour Tortillas|Corn Tortillas|Pita Bread|Naan|Wraps|Flatbread|Taco Shells', '|Soft Taco|Burrito Size|Garlic|Original|Spinach|Mini'),
  aisle('breakfast bakery', 'bakery', 3, '|Organic|Mini|Jumbo|Bakery Fresh|New York Style', 'Bagels|English Muffins|Croissants|Muffins|Donuts|Cinnamon Rolls|Scones', '|Plain|Everything|Blueberry|Cinnamon Raisin|Sesame|Whole Wheat|Chocolate Chip'),
  aisle('other creams cheeses', 'dairy eggs', 8, '|Organic|Whipped|Light|Fat Free|Original', 'Cream Cheese|Cottage Cheese|Ricotta Cheese|Mascarpone|Goat Cheese|Neufchatel', '|Plain|Chive Onion|Strawberry|Garden Vegetable|Honey|Small Curd|Whole Milk'),
  aisle('canned meals beans', 'canned goods', 6, '|Organic|Low Sodium|No Salt Added|Vegetarian', 'Black Beans|Garbanzo Beans|Refried Beans|Pinto Beans|Kidney Beans|Baked Beans|Cannellini Beans|Chili', '|Can|Traditional|Fat Free|Spicy|Original|Seasoned'),
  aisle('energy granola bars', 'snacks', 16, '|Organic|Chewy|Crunchy|Protein|Whole Grain', 'Granola Bars|Protein Bars|Nut Bars|Energy Bars|Oat Bars|Fruit And Nut Bars|Cereal Bars', '|Chocolate Chip|Peanut Butter|Dark Chocolate Sea Salt|Almond|Oats Honey|Blueberry|Coconut|Cranberry Almond'),
  aisle('fresh herbs', 'produce', 12, '|Organic|Fresh|Living', 'Cilantro|Basil|Italian Parsley|Mint|Dill|Thyme|Rosemary|Green Onions|Ginger Root|Chives', '|Bunch|Package|Clamshell|Each'),
  aisle('soy lactosefree', 'dairy eggs', 19, '|Organic|Unsweetened|Light|Plant Based', 'Almond Milk|Soy Milk|Oat Milk|Coconut Milk Beverage|Cashew Milk|Rice Milk|Oatmilk Creamer', '|Vanilla|Chocolate|Original|Barista Edition|Half Gallon|Extra Creamy'),
  aisle('refrigerated', 'beverages', 17, '|Organic|Cold Pressed|Fresh|100% Pure', 'Orange Juice|Lemonade|Kombucha|Green Juice|Pressed Apple Juice|Iced Tea|Coconut Water|Cold Brew', '|No Pulp|Some Pulp|Original|Ginger|Berry|Mango|Half Gallon'),
  aisle('frozen produce', 'frozen', 17, '|Organic|Steamable|Whole|Petite', 'Frozen Broccoli|Frozen Peas|Frozen Corn|Frozen Blueberries|Frozen Strawberries|Frozen Mixed Vegetables|Frozen Mango Chunks|Riced Cauliflower|Frozen Spinach', '|Florets|Bag|Chunks|Sweet|Cut|Family Size'),
  aisle('juice nectars', 'beverages', 10, '|Organic|100%|Light|No Sugar Added', 'Apple Juice|Cranberry Juice|Grape Juice|Juice Boxes|Pineapple Juice|Tomato Juice|Mango Nectar|Fruit Punch', '|Bottle|Boxes|Cocktail|Blend|Original|Pack'),
  aisle('soup broth bouillon', 'canned goods', 8, '|Organic|Low Sodium|Hearty|Homestyle|Condensed', 'Chicken Broth|Vegetable Broth|Bone Broth|Chicken Noodle Soup|Tomato Soup|Lentil Soup|Bouillon Cubes|Beef Stock', '|Classic|Reduced Sodium|Carton|Can|Free Range'),
  aisle('canned jarred vegetables', 'canned goods', 5, '|Organic|No Salt Added|Fire Roasted|Whole', 'Diced Tomatoes|Tomato Paste|Crushed Tomatoes|Tomato Sauce|Sweet Corn|Cut Green Beans|Artichoke Hearts|Roasted Red Peppers|Pumpkin Puree', '|Can|Italian Style|With Basil|Jar|Petite'),
  aisle('asian foods', 'international', 4, '|Organic|Reduced Sodium|Authentic|Spicy', 'Soy Sauce|Ramen Noodles|Rice Noodles|Teriyaki Sauce|Coconut Milk|Curry Paste|Sriracha Sauce|Seaweed Snacks|Hoisin Sauce', '|Original|Red|Green|Thai Style|Chicken|Sesame'),
  aisle('grains rice dried goods', 'dry goods pasta', 5, '|Organic|Long Grain|Whole Grain|Sprouted', 'Jasmine Rice|Brown Rice|Basmati Rice|Quinoa|White Rice|Couscous|Wild Rice|Red Lentils', '|Bag|Microwavable|Instant|Tricolor|Family Size'),
  aisle('butter', 'dairy eggs', 6, '|Organic|Grassfed|Unsalted|Salted|European Style', 'Butter|Butter Sticks|Spreadable Butter|Ghee|Plant Butter|Margarine', '|Sweet Cream|Whipped|Quarters|Olive Oil|Light'),
  aisle('baking ingredients', 'pantry', 5, '|Organic|Unbleached|Pure|Fine', 'All Purpose Flour|Granulated Sugar|Brown Sugar|Baking Soda|Baking Powder|Vanilla Extract|Chocolate Chips|Powdered Sugar|Bread Flour|Almond Flour', '|Bag|Light|Dark|Semi Sweet|Baking|Canister'),
  aisle('spices seasonings', 'pantry', 4, '|Organic|Ground|Whole|Smoked|Crushed', 'Black Pepper|Sea Salt|Garlic Powder|Cinnamon|Paprika|Cumin|Oregano|Chili Powder|Italian Seasoning|Red Pepper Flakes', '|Grinder|Jar|Shaker|Blend|Refill'),
  aisle('oils vinegars', 'pantry', 3, '|Organic|Extra Virgin|Pure|Cold Pressed|Light', 'Olive Oil|Avocado Oil|Coconut Oil|Canola Oil|Balsamic Vinegar|Apple Cider Vinegar|Sesame Oil|Red Wine Vinegar', '|Bottle|Spray|Unrefined|Of Modena|Raw'),
  aisle('condiments', 'pantry', 4, '|Organic|Classic|Spicy|Reduced Sugar|Real', 'Ketchup|Yellow Mustard|Dijon Mustard|Mayonnaise|Hot Sauce|Barbecue Sauce|Relish|Sriracha Mayo', '|Squeeze Bottle|Original|Honey|Chipotle|Light|Jar'),
  aisle('hot cereal pancake mixes', 'breakfast', 3, '|Organic|Whole Grain|Gluten Free|Protein|Old Fashioned', 'Pancake Mix|Instant Oatmeal|Rolled Oats|Steel Cut Oats|Waffle Mix|Grits|Cream Of Wheat', '|Buttermilk|Maple Brown Sugar|Original|Apple Cinnamon|Blueberry|Quick'),
  aisle('honeys syrups nectars', 'pantry', 2, '|Organic|Raw|Pure|Grade A|Light', 'Maple Syrup|Honey|Agave Nectar|Pancake Syrup|Honey Bear|Molasses', '|Amber|Dark|Clover|Wildflower|Squeeze|Original'),
  aisle('fresh dips tapenades', 'deli', 8, '|Organic|Classic|Roasted|Spicy', 'Hummus|Guacamole|Tzatziki|Spinach Dip|Baba Ganoush|Olive Tapenade|Pesto', '|Original|Red Pepper|Garlic|Everything|Lemon|Pine Nut|Family Size'),
  aisle('poultry counter', 'meat seafood', 5, '|Organic|Free Range|Air Chilled|Boneless Skinless|Antibiotic Free', 'Chicken Breast|Chicken Thighs|Chicken Drumsticks|Whole Chicken|Ground Turkey|Chicken Wings|Chicken Tenderloins', '|Fillets|Family Pack|Value Pack|Per Pound|Tray'),
  aisle('marinades meat preparation', 'pantry', 1.5, '|Organic|Classic|Smoky|Zesty', 'Marinade|Meat Rub|Steak Sauce|Grill Seasoning|Teriyaki Marinade|Fajita Seasoning|Brine Kit', '|Mesquite|Lemon Pepper|Garlic Herb|Chipotle|Original|Honey Garlic'),
  aisle('meat counter', 'meat seafood', 3, '|Organic|Grass Fed|Angus|Lean|Prime', 'Ground Beef|Ribeye Steak|Sirloin Steak|Pork Chops|Pork Tenderloin|Beef Stew Meat|Flank Steak|Lamb Chops', '|Per Pound|Family Pack|Boneless|Bone In|85% Lean'),
  aisle('seafood counter', 'meat seafood', 1.5, '|Wild Caught|Fresh|Farm Raised|Sustainable', 'Salmon Fillet|Shrimp|Cod Fillet|Tilapia|Tuna Steak|Scallops|Crab Legs', '|Per Pound|Peeled Deveined|Skin On|Jumbo|Cooked'),
  aisle('frozen pizza', 'frozen', 4, '|Organic|Thin Crust|Rising Crust|Gluten Free|Stone Baked', 'Pizza|Pizza Snacks|French Bread Pizza|Flatbread Pizza|Pizza Rolls|Cauliflower Crust Pizza', '|Pepperoni|Four Cheese|Margherita|Supreme|Veggie|Sausage', true),
  aisle('frozen appetizers sides', 'frozen', 6, '|Organic|Crispy|Seasoned|Mini', 'Tater Tots|French Fries|Mozzarella Sticks|Onion Rings|Potstickers|Egg Rolls|Pierogies|Garlic Bread', '|Original|Chicken|Pork|Vegetable|Cheese|Crinkle Cut'),
  aisle('frozen breakfast', 'frozen', 3, '|Organic|Whole Grain|Gluten Free|Homestyle', 'Frozen Waffles|Breakfast Sandwich|Breakfast Burrito|Frozen Pancakes|French Toast Sticks', '|Buttermilk|Blueberry|Sausage Egg Cheese|Chocolate Chip|Original'),
  aisle('candy chocolate', 'snacks', 5, '|Organic|Dark|Milk|Fair Trade|Mini', 'Chocolate Bar|Peanut Butter Cups|Gummy Bears|Chocolate Covered Almonds|Mints|Chocolate Truffles|Licorice|Caramels', '|Sea Salt|Almond|Original|Sour|Peppermint|72% Cacao'),
  aisle('cookies cakes', 'snacks', 5, '|Organic|Soft Baked|Crunchy|Mini|Gluten Free', 'Chocolate Chip Cookies|Sandwich Cookies|Oatmeal Cookies|Shortbread Cookies|Brownies|Snack Cakes|Animal Crackers|Wafer Cookies', '|Original|Double Chocolate|Vanilla|Lemon|Family Size'),
  aisle('nuts seeds dried fruit', 'snacks', 5, '|Organic|Roasted|Raw|Salted|Unsalted', 'Almonds|Cashews|Pistachios|Walnuts|Trail Mix|Dried Cranberries|Raisins|Sunflower Seeds|Mixed Nuts|Dried Mango', '|Bag|Halves|Whole|Sea Salt|Honey Roasted|Pouch'),
  aisle('popcorn jerky', 'snacks', 4, '|Organic|Smoked|Light|Teriyaki|Spicy', 'Popcorn|Microwave Popcorn|Beef Jerky|Turkey Jerky|Kettle Corn|Meat Sticks', '|Sea Salt|Butter|White Cheddar|Peppered|Sweet Salty|Original'),
  aisle('tea', 'beverages', 3.5, '|Organic|Decaf|Herbal|Loose Leaf', 'Green Tea|Black Tea|Chamomile Tea|Peppermint Tea|Earl Grey Tea|Chai Tea|Iced Tea Mix|Matcha', '|Tea Bags|20 Count|Lemon|Ginger|Honey|Latte'),
  aisle('energy sports drinks', 'beverages', 2, '|Zero Sugar|Low Calorie|Organic|Natural', 'Sports Drink|Energy Drink|Electrolyte Water|Energy Shot|Protein Shake|Hydration Mix', '|Fruit Punch|Lemon Lime|Berry|Orange|Original|Tropical'),
  aisle('red wines', 'alcohol', 1.5, '|Reserve|Organic|California|Old Vine', 'Cabernet Sauvignon|Pinot Noir|Merlot|Red Blend|Malbec|Zinfandel|Chianti|Syrah', '|Red Wine|Bottle|Magnum|Half Bottle'),
  aisle('white wines', 'alcohol', 1, '|Reserve|Organic|California|Dry', 'Chardonnay|Sauvignon Blanc|Pinot Grigio|Riesling|Rose|Prosecco|Moscato', '|White Wine|Bottle|Sparkling|Half Bottle'),
  aisle('specialty cheeses', 'dairy eggs', 2, '|Aged|Imported|Artisan|Creamy|Organic', 'Brie|Gouda|Gruyere|Blue Cheese|Fresh Mozzarella|Feta Cheese|Manchego|Havarti|Camembert', '|Wedge|Crumbles|Round|Smoked|Truffle'),
  aisle('dish detergents', 'household', 1, '|Free Clear|Concentrated|Natural|Ultra', 'Dish Soap|Dishwasher Pods|Dishwasher Detergent|Rinse Aid|Dish Sponges', '|Lemon|Original|Lavender|Fresh Scent|Unscented|Grapefruit'),
  aisle('laundry', 'household', 1.5, '|Free Clear|He|Concentrated|Natural|Ultra', 'Laundry Detergent|Laundry Pods|Fabric Softener|Dryer Sheets|Stain Remover|Bleach', '|Lavender|Original|Fresh Scent|Unscented|Spring Meadow'),
  aisle('cleaning products', 'household', 1.5, '|Natural|Disinfecting|Multi Surface|Streak Free', 'All Purpose Cleaner|Disinfecting Wipes|Glass Cleaner|Bathroom Cleaner|Floor Cleaner|Scrub Sponges', '|Lemon|Lavender|Fresh Scent|Citrus|Unscented|Spray'),
  aisle('trash bags liners', 'household', 0.6, '|Heavy Duty|Odor Control|Compostable|Strong', 'Trash Bags|Kitchen Bags|Drawstring Bags|Recycling Bags|Lawn Bags', '|13 Gallon|30 Gallon|Unscented|Lavender|Large'),
  aisle('oral hygiene', 'personal care', 0.8, '|Whitening|Sensitive|Natural|Fluoride Free', 'Toothpaste|Mouthwash|Toothbrush|Dental Floss|Whitening Strips', '|Mint|Fresh Mint|Cool Mint|Charcoal|Soft|Kids'),
  aisle('body lotions soap', 'personal care', 0.8, '|Natural|Moisturizing|Sensitive|Unscented', 'Body Wash|Bar Soap|Hand Soap|Body Lotion|Hand Cream|Shower Gel', '|Lavender|Shea Butter|Coconut|Oatmeal|Aloe|Eucalyptus'),
  aisle('hair care', 'personal care', 0.5, '|Natural|Moisturizing|Volumizing|Color Safe', 'Shampoo|Conditioner|Dry Shampoo|Hair Gel|Leave In Conditioner|Hair Spray', '|Argan Oil|Tea Tree|Coconut|Citrus|Fragrance Free'),
  aisle('vitamins supplements', 'personal care', 0.7, '|Organic|Whole Food|Adult|Kids|Extra Strength', 'Multivitamin|Vitamin D3|Vitamin C|Fish Oil|Probiotic|Magnesium|Gummy Vitamins|Collagen Peptides', '|Gummies|Softgels|Capsules|Tablets|Powder'),
  aisle('cold flu allergy', 'personal care', 0.4, '|Extra Strength|Non Drowsy|Nighttime|Daytime', 'Cough Syrup|Allergy Relief|Cold Medicine|Throat Lozenges|Nasal Spray|Pain Reliever', '|Tablets|Liquid|Honey Lemon|Cherry|Caplets'),
  aisle('diapers wipes', 'babies', 2, '|Sensitive|Overnight|Natural|Ultra Soft', 'Baby Wipes|Diapers|Training Pants|Swim Diapers|Diaper Cream', '|Size 1|Size 2|Size 3|Size 4|Unscented|Jumbo Pack'),
  aisle('baby bath body care', 'babies', 0.3, '|Gentle|Natural|Tear Free|Organic', 'Baby Shampoo|Baby Lotion|Baby Wash|Baby Oil|Diaper Rash Ointment', '|Lavender|Fragrance Free|Calming|Original|Oatmeal'),
  aisle('cat food care', 'pets', 1.5, '|Grain Free|Natural|Indoor|Kitten|Senior', 'Dry Cat Food|Wet Cat Food|Cat Treats|Cat Litter|Pate Cat Food', '|Chicken|Salmon|Tuna|Turkey|Ocean Fish|Clumping'),
  aisle('prepared meals', 'deli', 4, '|Organic|Fresh|Homestyle|Family Size', 'Rotisserie Chicken|Pasta Salad|Potato Salad|Chicken Salad|Sushi Roll|Deli Mac And Cheese|Egg Salad|Quiche', '|Classic|Original|Spicy|Deli Fresh|Greek'),
  aisle('tofu meat alternatives', 'deli', 3, '|Organic|Plant Based|Extra Firm|Smoked|Sprouted', 'Tofu|Tempeh|Veggie Patties|Plant Based Sausage|Seitan|Meatless Crumbles', '|Original|Firm|Silken|Teriyaki|Chipotle|Italian'),
  aisle('instant foods', 'dry goods pasta', 3, '|Organic|Instant|Deluxe|Family Size', 'Mac And Cheese|Ramen Soup|Cup Noodles|Instant Mashed Potatoes|Stuffing Mix|Rice Pilaf|Noodle Soup Cup', '|Original|Chicken|Shells White Cheddar|Beef|Butter|Spicy'),
  aisle('latino foods', 'international', 2.5, '|Authentic|Organic|Traditional|Mild', 'Taco Seasoning|Enchilada Sauce|Green Chiles|Tostadas|Chipotle Peppers|Mole Sauce|Masa Harina', '|Original|Red|Green|Hot|Medium'),
  aisle('indian foods', 'international', 0.8, '|Authentic|Organic|Mild|Spicy', 'Tikka Masala Sauce|Curry Sauce|Garam Masala|Basmati Pilaf|Chana Masala|Naan Chips|Mango Chutney', '|Original|Butter|Korma|Vindaloo|Medium'),
  aisle('pickled goods olives', 'pantry', 2, '|Organic|Kosher|Pitted|Sliced', 'Dill Pickles|Kalamata Olives|Green Olives|Sauerkraut|Pickled Jalapenos|Capers|Bread Butter Pickles', '|Spears|Chips|Whole|Jar|Stuffed'),
  aisle('granola', 'breakfast', 2, '|Organic|Grain Free|Low Sugar|Ancient Grain', 'Granola|Muesli|Granola Clusters|Protein Granola', '|Honey Almond|Vanilla Blueberry|Maple Pecan|Dark Chocolate|Coconut Cashew'),
  aisle('breakfast bars pastries', 'breakfast', 1.5, '|Frosted|Whole Grain|Organic|Soft Baked', 'Toaster Pastries|Breakfast Bars|Breakfast Cereal Bars|Breakfast Biscuits', '|Strawberry|Brown Sugar Cinnamon|Blueberry|Apple Cinnamon|Chocolate'),
  aisle('fruit vegetable snacks', 'snacks', 3, '|Organic|Crunchy|Freeze Dried|Unsweetened', 'Fruit Snacks|Applesauce Pouches|Apple Chips|Fruit Leather|Veggie Straws|Banana Chips', '|Mixed Berry|Strawberry|Cinnamon|Sea Salt|Mango|Variety Pack'),
  aisle('frozen meat seafood', 'frozen', 3, '|Wild Caught|Breaded|Grilled|Organic', 'Frozen Shrimp|Chicken Nuggets|Fish Sticks|Frozen Salmon|Chicken Strips|Frozen Turkey Burgers|Meatballs', '|Family Size|Original|Popcorn|Italian Style|Crispy'),
  aisle('frozen vegan vegetarian', 'frozen', 1.2, '|Organic|Plant Based|Vegan|Gluten Free', 'Veggie Burgers|Meatless Nuggets|Vegan Burrito|Falafel|Cauliflower Bites|Vegan Pizza', '|Original|Spicy|Black Bean|Buffalo|Mediterranean'),
  aisle('cocoa drink mixes', 'beverages', 0.7, '|Organic|Rich|Sugar Free|Dark', 'Hot Cocoa Mix|Drink Mix|Chocolate Syrup|Lemonade Mix|Protein Powder', '|Milk Chocolate|Marshmallow|Original|Pink Lemonade|Vanilla'),
  aisle('packaged poultry', 'meat seafood', 2, '|Organic|Free Range|Fully Cooked|Grilled', 'Chicken Breast Strips|Ground Chicken|Turkey Burgers|Chicken Sausage Links|Chicken Meatballs', '|Original|Italian Style|Spinach Feta|Family Pack'),
  aisle('baking supplies decor', 'pantry', 0.8, '|Organic|Rainbow|Natural|Classic', 'Cupcake Liners|Sprinkles|Food Coloring|Frosting|Cake Mix|Brownie Mix|Pie Crust', '|Vanilla|Chocolate|Funfetti|Cream Cheese|Assorted'),
  aisle('air fresheners candles', 'household', 0.5, '|Natural|Odor Eliminating|Soy|Scented', 'Air Freshener|Candle|Plug In Refills|Room Spray|Car Freshener', '|Lavender|Fresh Linen|Vanilla|Citrus|Eucalyptus'),
  aisle('feminine care', 'personal care', 0.5, '|Organic|Ultra Thin|Overnight|Regular', 'Pads|Tampons|Liners|Menstrual Cup|Feminine Wash', '|Unscented|Super|Light|Heavy|Multipack'),
  aisle('shave needs', 'personal care', 0.3, '|Sensitive|Moisturizing|Classic|Natural', 'Shave Gel|Razor Cartridges|Disposable Razors|Shave Cream|Aftershave Balm', '|Aloe|Original|Cool|Fragrance Free|Cedar'),
  aisle('kitchen supplies', 'household', 0.3, '|Heavy Duty|Reusable|Nonstick|Compostable', 'Aluminum Foil|Plastic Wrap|Parchment Paper|Sandwich Bags|Storage Bags|Freezer Bags', '|Roll|Quart|Gallon|Value Pack|Slider'),
  aisle('bulk grains rice dried goods', 'bulk', 0.8, '|Organic|Bulk|Raw|Sprouted', 'Bulk Rolled Oats|Green Lentils|Chia Seeds|Bulk Brown Rice|Dried Chickpeas|Flax Seeds|Split Peas', '|Per Pound|Bag|Bin'),
  aisle('bulk dried fruits vegetables', 'bulk', 0.3, '|Organic|Unsulphured|Raw|Dried', 'Dried Apricots|Dates|Dried Figs|Prunes|Dried Cherries|Goji Berries', '|Per Pound|Bag|Bin|Pitted'),
];

/** The number of aisles in the built-in taxonomy (the most a synthetic shop can have). */
export const AISLE_COUNT = AISLES.length;

/** Pack-size suffixes that keep names unique once an aisle's name combinations run out. */
const PACK_SIZES = ['Family Size', 'Value Pack', 'Twin Pack', 'Multipack', 'Snack Size', 'Club Size', 'Mini', 'Large', 'Travel Size', 'Bulk Pack'];

/** Products bought together: one planted group takes a product from each aisle of a rule. */
const COMPLEMENT_RULES: readonly string[][] = [
  ['dry pasta', 'pasta sauce', 'packaged cheese'],
  ['chips pretzels', 'preserved dips spreads'],
  ['cereal', 'milk'],
  ['hot dogs bacon sausage', 'buns rolls'],
  ['coffee', 'cream'],
  ['bread', 'spreads'],
  ['crackers', 'packaged cheese'],
  ['beers coolers', 'chips pretzels'],
  ['packaged vegetables fruits', 'salad dressing toppings'],
  ['tortillas flat bread', 'canned meals beans', 'preserved dips spreads'],
  ['breakfast bakery', 'other creams cheeses'],
  ['hot cereal pancake mixes', 'honeys syrups nectars'],
  ['baking ingredients', 'eggs', 'butter'],
  ['poultry counter', 'marinades meat preparation'],
  ['red wines', 'specialty cheeses'],
  ['asian foods', 'grains rice dried goods'],
  ['tea', 'honeys syrups nectars'],
  ['frozen pizza', 'soft drinks'],
  ['fresh dips tapenades', 'chips pretzels'],
  ['ice cream ice', 'cookies cakes'],
  ['diapers wipes', 'baby food formula'],
  ['meat counter', 'buns rolls', 'condiments'],
];

/** Shopper personas: aisles one kind of household favours together. */
const PERSONAS: readonly { name: string; aisles: string[] }[] = [
  { name: 'family with baby', aisles: ['baby food formula', 'diapers wipes', 'baby bath body care', 'milk', 'fresh fruits', 'fruit vegetable snacks'] },
  { name: 'pet owner', aisles: ['dog food care', 'cat food care', 'paper goods', 'cleaning products'] },
  { name: 'healthy eater', aisles: ['fresh vegetables', 'fresh herbs', 'tofu meat alternatives', 'soy lactosefree', 'packaged vegetables fruits', 'nuts seeds dried fruit', 'yogurt'] },
  { name: 'party host', aisles: ['beers coolers', 'chips pretzels', 'soft drinks', 'preserved dips spreads', 'red wines', 'white wines', 'frozen pizza'] },
  { name: 'home baker', aisles: ['baking ingredients', 'butter', 'eggs', 'baking supplies decor', 'spices seasonings', 'milk'] },
  { name: 'breakfast lover', aisles: ['cereal', 'breakfast bakery', 'hot cereal pancake mixes', 'coffee', 'cream', 'juice nectars', 'eggs', 'granola'] },
  { name: 'home cook', aisles: ['fresh vegetables', 'poultry counter', 'meat counter', 'spices seasonings', 'oils vinegars', 'grains rice dried goods', 'canned jarred vegetables', 'asian foods'] },
  { name: 'snacker', aisles: ['chips pretzels', 'candy chocolate', 'cookies cakes', 'crackers', 'popcorn jerky', 'energy granola bars', 'soft drinks'] },
  { name: 'convenience', aisles: ['frozen meals', 'frozen pizza', 'instant foods', 'prepared meals', 'frozen appetizers sides', 'soup broth bouillon', 'lunch meat'] },
  { name: 'household stocker', aisles: ['paper goods', 'laundry', 'cleaning products', 'dish detergents', 'trash bags liners', 'water seltzer sparkling water'] },
];

/** Instacart's share of orders by day of week (0 = the busiest, Sunday). */
const DOW_SHARE = [19.2, 17.5, 13.0, 11.9, 11.6, 12.7, 13.8];

/** Instacart's share of orders by hour of day. */
const HOUR_SHARE = [0.67, 0.35, 0.21, 0.16, 0.16, 0.27, 0.9, 2.75, 5.34, 7.6, 8.5, 8.5, 8.2, 8.2, 8.3, 8.2, 7.8, 6.2, 4.8, 3.7, 2.9, 2.4, 1.9, 1.2];
