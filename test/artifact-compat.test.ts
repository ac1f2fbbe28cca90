/**
 * Artifacts written by an earlier version still load and answer as they did.
 *
 * test/golden/artifact-2937e86.hrec was saved by the code of commit 2937e86 (stop 15), before
 * ALS, NeuralCF and ContentBased gained a vector index (state key `index`, option
 * `indexCandidates`): a HybridRecommender of RepeatPurchase, ALS (8 factors, 4 iterations),
 * NeuralCF (GMF, 8 factors, 2 epochs) and ContentBased (TF-IDF) with weights 1, fitted with seed 3
 * on datasetFromInstacart(generateGrocery({ users: 80, products: 60, seed: 5 })). Its .json holds
 * what that code answered: recommend(user, { k: 8 }) for six shoppers and recommend({ history })
 * for a three-item history (items, scores, sources).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { ALS, ContentBased, NeuralCF } from '../src/index';

interface Answer {
  item: string;
  score: number;
  sources: Record<string, number>;
}
interface Golden {
  users: { user: string; items: Answer[] }[];
  history: string[];
  anonymous: Answer[];
}

const golden = JSON.parse(readFileSync(new URL('./golden/artifact-2937e86.json', import.meta.url), 'utf8')) as Golden;
const bytes = new Uint8Array(readFileSync(new URL('./golden/artifact-2937e86.hrec', import.meta.url)));

/** Same items in the same order; scores and sources equal to float32 rounding (the dense kernels now sum four rows at a time). */
function expectSameAnswers(got: { item: string; score: number; sources: Record<string, number> }[], want: Answer[]): void {
  expect(got.map((r) => r.item)).toEqual(want.map((r) => r.item));
  got.forEach((r, i) => {
    expect(r.score).toBeCloseTo(want[i].score, 5);
    expect(Object.keys(r.sources).sort()).toEqual(Object.keys(want[i].sources).sort());
    for (const [name, value] of Object.entries(want[i].sources)) expect(r.sources[name]).toBeCloseTo(value, 5);
  });
}

describe('artifacts of stop 15 (2937e86)', () => {
  it('load without the options and keys added since, with the defaults those models were written with', async () => {
    const rec = await HybridRecommender.load(bytes);
    expect(rec.strategyNames).toEqual(['repeat', 'als', 'ncf', 'content']);
    expect((rec.strategy('als') as ALS).options.indexCandidates).toBe(1000);
    expect((rec.strategy('ncf') as NeuralCF).options.indexCandidates).toBe(1000);
    expect((rec.strategy('content') as ContentBased).options.indexCandidates).toBe(1000);
    // Written before HybridOptions.recency: fitted on the interactions as they were.
    expect(rec.options.recency).toBeNull();
  });

  it('recommend as they did for known shoppers and for a history passed at query time', async () => {
    const rec = await HybridRecommender.load(bytes);
    for (const { user, items } of golden.users) expectSameAnswers(rec.recommend(user, { k: 8 }), items);
    expectSameAnswers(rec.recommend({ history: golden.history }, { k: 8 }), golden.anonymous);
  });

  it('save again in the current format, which loads to the same answers', async () => {
    const resaved = (await HybridRecommender.load(bytes)).save();
    const rec = await HybridRecommender.load(resaved);
    for (const { user, items } of golden.users) expectSameAnswers(rec.recommend(user, { k: 8 }), items);
  });
});
