/**
 * BENCHMARKS.md P5 `rules-exact`: R arules on Groceries reports 5,668 rules at (support 0.001,
 * confidence 0.5) and 410 at (0.001, 0.8). Matching it needs arules' conventions: support
 * count >= ceil(9835 x 0.001) = 10 (a floor of 9 gives 7,436 rules), confidence >= the
 * threshold with ties kept (452 rules sit at exactly 0.5), maxlen 10.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { AssociationRules, generateRules, mineItemsets } from '../src/strategies/association-rules';
import { GROCERIES_FILE, readGroceries } from '../benchmarks/groceries';

const present = existsSync(GROCERIES_FILE);

describe.skipIf(!present)(`P5 rules-exact on Groceries (needs ${GROCERIES_FILE})`, () => {
  // vitest still runs a skipped describe's body to collect its tests: read only when present.
  const { names, tx } = present ? readGroceries() : { names: [], tx: { ptr: new Int32Array(1), items: new Int32Array(0), nItems: 0 } };

  it('reads 9,835 baskets of 169 items', async () => {
    expect(tx.ptr.length - 1).toBe(9835);
    expect(tx.nItems).toBe(169);
    expect(tx.items.length).toBe(43367);
    expect(names).toContain('cream cheese ');
  });

  it('reproduces arules: 5,668 rules at (0.001, 0.5) and 410 at (0.001, 0.8)', async () => {
    const sets = await mineItemsets(tx, { minSupport: 0.001, maxLength: 10 });
    expect(sets.minCount).toBe(10);
    expect(sets.size).toBe(13492);
    expect(sets.lengthHistogram()).toEqual([0, 157, 2981, 6831, 3137, 376, 10]);

    const half = await generateRules(sets, { minConfidence: 0.5 });
    expect(half.size).toBe(5668);
    // arules summary(rules): rule length (lhs + rhs) 2: 11, 3: 1461, 4: 3211, 5: 939, 6: 46
    expect(half.lengthHistogram()).toEqual([0, 0, 11, 1461, 3211, 939, 46]);

    const strict = await generateRules(sets, { minConfidence: 0.8 });
    expect(strict.size).toBe(410);
    expect(strict.lengthHistogram()).toEqual([0, 0, 0, 29, 229, 140, 12]);

    // The top rule by lift, as arules' inspect(sort(rules, by = "lift")) prints it.
    const top = strict.rule(0);
    expect(top.antecedent.map((i) => names[i]).sort()).toEqual(['liquor', 'red/blush wine']);
    expect(names[top.consequent]).toBe('bottled beer');
    expect(top.support).toBeCloseTo(0.001931876, 9);
    expect(top.confidence).toBeCloseTo(0.9047619, 7);
    expect(top.lift).toBeCloseTo(11.235269, 6);
  });

  it('gives the same rules through the AssociationRules strategy', async () => {
    const n = tx.ptr.length - 1;
    const data = Dataset.fromBaskets({
      users: new IdIndex(Array.from({ length: n }, (_, b) => String(b))),
      items: new IdIndex(names),
      user: Int32Array.from({ length: n }, (_, b) => b),
      ids: Array.from({ length: n }, (_, b) => String(b)),
      orderNumber: new Int32Array(n).fill(1),
      day: new Float64Array(n),
      linePtr: tx.ptr,
      lines: tx.items,
    });
    const model = new AssociationRules({ minSupport: 0.001, minCount: 1, minConfidence: 0.8, minLift: 0, maxLength: 10, maxRules: Infinity });
    await model.fit(data);
    expect(model.rules().length).toBe(410);
    expect(model.itemsets().length).toBe(13492);
  });
});
