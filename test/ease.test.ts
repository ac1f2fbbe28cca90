import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { AbortedError, NotFittedError, OptionError } from '../src/errors';
import { EASE } from '../src/strategies/ease';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { basketsDataset, groupOf, itemIdx, plantedGroups } from './fixtures';

function scoresOf(model: EASE, nItems: number, q: Query): Map<number, number> {
  const out = new ScoreVector(nItems);
  model.score(q, out);
  const m = new Map<number, number>();
  for (let t = 0; t < out.length; t++) m.set(out.at(t), out.values[out.at(t)]);
  return m;
}

describe('EASE', () => {
  const data = basketsDataset({
    u1: [['A', 'B']],
    u2: [['A', 'B', 'C']],
    u3: [['B', 'C']],
    u4: [['A'], ['A', 'D']],
  });
  const [A, B, C, D] = itemIdx(data, 'A', 'B', 'C', 'D');

  it('computes B = I - P / diag(P), P = (X^T X + lambda I)^-1 (known answer against ml-matrix)', async () => {
    const ease = new EASE({ lambda: 0.5 });
    await ease.fit(data);
    // X binary: rows u1..u4 over A, B, C, D.
    const x = new Matrix([
      [1, 1, 0, 0],
      [1, 1, 1, 0],
      [0, 1, 1, 0],
      [1, 0, 0, 1],
    ]);
    const g = x.transpose().mmul(x).add(Matrix.eye(4).mul(0.5));
    const p = inverse(g);
    const b = (i: number, j: number) => (i === j ? 0 : -p.get(i, j) / p.get(j, j));
    const s = scoresOf(ease, data.nItems, anonymousQuery([A, C]));
    for (const j of [A, B, C, D]) expect(s.get(j)).toBeCloseTo(b(A, j) + b(C, j), 5);
    expect(ease.summary.modeled).toBe(4);
    expect(ease.summary.message).toMatch(/models all 4/);
    const e = ease.explain(anonymousQuery([A, C]), B, (i) => data.items.id(i))!;
    expect(e.score).toBeCloseTo(b(A, B) + b(C, B), 5);
    expect(e.evidence.map((x) => x.item).sort()).toEqual([A, C].filter((i) => b(i, B) > 0).sort());
  });

  it('models only the maxItems most purchased items and says so', async () => {
    const progress: string[] = [];
    const ease = new EASE({ maxItems: 2 });
    await ease.fit(data, { onProgress: (p) => p.message && progress.push(p.message) });
    expect(ease.summary).toMatchObject({ items: 4, modeled: 2 });
    expect(ease.summary.message).toMatch(/models the 2 most purchased of 4 purchased items \(maxItems 2\); the other 2 get no EASE score/);
    expect(progress).toContain(ease.summary.message);
    const s = scoresOf(ease, data.nItems, anonymousQuery([A, B, C, D]));
    expect([...s.keys()].sort()).toEqual([A, B].sort()); // A and B have 3 buyers each
    expect(ease.explain(anonymousQuery([A]), C, String)).toBeNull();
  });

  it('finds the planted taste groups', async () => {
    const d = plantedGroups(11);
    const ease = new EASE();
    await ease.fit(d);
    let same = 0;
    let total = 0;
    for (let u = 0; u < 60; u++) {
      const q = userQuery(d, u);
      const s = scoresOf(ease, d.nItems, q);
      const top = [...s.entries()].filter(([i]) => !q.history.items.includes(i)).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3);
      for (const [i] of top) {
        total++;
        if (groupOf(d.items.id(i)) === Number(d.users.id(u).slice(1)) % 6) same++;
      }
    }
    expect(same / total).toBeGreaterThan(0.9);
  });

  it('round-trips to identical scores (the same artifact with or without customer data)', async () => {
    const ease = new EASE({ lambda: 3, weighting: 'bm25' });
    await ease.fit(data);
    for (const customerData of [true, false]) {
      const w = new ArtifactWriter();
      const state = ease.save(w.scope('e'), { customerData });
      const r = ArtifactReader.open(w.toBytes(state));
      const back = EASE.load(r.root as JsonObject, r.scope('e'));
      expect(back.summary).toEqual(ease.summary);
      for (const q of [userQuery(data, 1), anonymousQuery([D, D], [B])]) expect(scoresOf(back, data.nItems, q)).toEqual(scoresOf(ease, data.nItems, q));
    }
  });

  it('stops when a timer aborts the inverse mid-fit', async () => {
    const big = plantedGroups(2, { users: 3000, groups: 30, perGroup: 30, perUser: 6 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const ease = new EASE();
    await expect(ease.fit(big, { signal: controller.signal })).rejects.toThrow(AbortedError);
    expect(ease.fitted).toBe(false);
  });

  it('rejects bad options, bad queries and use before fit', async () => {
    expect(() => new EASE({ lambda: 0 })).toThrow(OptionError);
    expect(() => new EASE({ maxitems: 3 } as never)).toThrow(/did you mean "maxItems"/);
    expect(() => new EASE().summary).toThrow(NotFittedError);
    const ease = new EASE();
    await ease.fit(data);
    expect(() => ease.score(anonymousQuery([9]), new ScoreVector(data.nItems))).toThrow(OptionError);
    // The checks of src/strategies/checks.ts, as every strategy runs them: named strategy and argument.
    expect(() => ease.score(anonymousQuery([0], [data.nItems]), new ScoreVector(data.nItems))).toThrow(/^EASE: query.basket\[0\]: item index \d+ out of range/);
    expect(() => ease.score(anonymousQuery([0]), new ScoreVector(data.nItems - 1))).toThrow(/^EASE: out: ScoreVector has \d+ items, the model \d+/);
    expect(() => ease.explain(anonymousQuery([-1]), 0, String)).toThrow(/^EASE: query.history.items\[0\]/);
    expect(() => ease.explain(anonymousQuery([0]), 1.5, String)).toThrow(/^EASE.explain: item/);
    await expect(ease.fit(null as never)).rejects.toThrow(/^EASE.fit: data must be a Dataset, got null/);
  });
});
