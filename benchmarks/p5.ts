/**
 * P5: association rules on Groceries (9,835 baskets, 169 items) against R arules'
 * `apriori(Groceries, parameter = list(supp = 0.001, conf = c(0.5, 0.8)))`: the rule counts
 * must be exactly 5,668 and 410. Prints and stores the counts, rules by length, the number of
 * frequent itemsets and the median mining time.
 *
 *   npx tsx benchmarks/p5.ts
 *
 * Writes benchmarks/results/P5.json. Without ../shared/data/groceries it says so and exits 0.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRules, mineItemsets } from '../src/strategies/association-rules';
import { GROCERIES_FILE, readGroceries } from './groceries';
import { describeMachine, machine, median } from './machine';

const here = fileURLToPath(new URL('.', import.meta.url));
/** R arules 1.7 on Groceries at support 0.001 (../shared/BENCHMARKS.md, P5). */
const ARULES = { 0.5: 5668, 0.8: 410 } as const;
const RUNS = 7;

async function timeMs<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const times: number[] = [];
  let value!: T;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    value = await f();
    times.push(performance.now() - t0);
  }
  return { value, ms: median(times) };
}

async function main(): Promise<void> {
  if (!existsSync(GROCERIES_FILE)) {
    console.log(`P5 skipped: ${GROCERIES_FILE} not found (../shared is only on developer machines and in CI).`);
    return;
  }
  const { tx, lines } = readGroceries();
  const nBaskets = tx.ptr.length - 1;
  console.log(`Groceries: ${nBaskets} baskets, ${tx.nItems} items, ${lines} lines`);
  const mined = await timeMs(() => mineItemsets(tx, { minSupport: 0.001, maxLength: 10 }));
  const itemsets = mined.value;
  console.log(`frequent itemsets (count >= ${itemsets.minCount}): ${itemsets.size} in ${mined.ms.toFixed(1)} ms (median of ${RUNS})`);
  const rows = [];
  let allMatch = true;
  for (const minConfidence of [0.5, 0.8] as const) {
    const rules = await timeMs(() => generateRules(itemsets, { minConfidence }));
    const match = rules.value.size === ARULES[minConfidence];
    allMatch &&= match;
    const byLength = rules.value.lengthHistogram();
    console.log(`confidence ${minConfidence}: ${rules.value.size} rules (arules ${ARULES[minConfidence]}: ${match ? 'exact' : 'MISMATCH'}), by length ${JSON.stringify(byLength)}`);
    rows.push({
      'min support': 0.001,
      'min confidence': minConfidence,
      rules: rules.value.size,
      'arules rules': ARULES[minConfidence],
      match: match ? 'exact' : 'MISMATCH',
      'rules by length (items)': Array.from(byLength, (c, n) => (c > 0 ? `${n}: ${c}` : '')).filter((x) => x !== '').join(', '),
      'mining ms': Number(mined.ms.toFixed(1)),
      'rule generation ms': Number(rules.ms.toFixed(1)),
    });
  }
  const result = {
    title: 'P5 association rules, Groceries (R arules reference)',
    command: 'npx tsx benchmarks/p5.ts',
    date: new Date().toISOString().slice(0, 10),
    machine: machine(),
    tables: { 'Rules at support 0.001 against arules': rows },
    notes: [
      `${nBaskets} baskets, ${tx.nItems} items; support 0.001 means itemsets in at least ${itemsets.minCount} baskets (ceil(N x minsup), as arules counts).`,
      `${itemsets.size} frequent itemsets (lengths up to 10). Times are medians of ${RUNS} runs on ${describeMachine()}.`,
    ],
  };
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'P5.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote benchmarks/results/P5.json');
  if (!allMatch) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
