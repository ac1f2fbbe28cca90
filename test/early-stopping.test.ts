import { describe, expect, it } from 'vitest';
import { EarlyStopping } from '../src/util/early-stopping';

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement and restores the best epoch', () => {
    const w = [new Float32Array([0])];
    const early = new EarlyStopping(2);
    const values = [0.1, 0.3, 0.2, 0.3, 0.25];
    const stops: boolean[] = [];
    values.forEach((v, e) => {
      w[0][0] = e + 1; // the weights of epoch e + 1
      stops.push(early.observe(e + 1, v, w));
    });
    // Epoch 2 is best; 3 and 4 (a tie keeps the earlier epoch) bring nothing: stop after 4.
    expect(stops).toEqual([false, false, false, true, true]);
    expect(early.bestEpoch).toBe(2);
    early.restore(w);
    expect(w[0][0]).toBe(2);
  });

  it('watches a loss when lower is better, and restores nothing before any value', () => {
    const w = [new Float32Array([7])];
    const early = new EarlyStopping(1, false);
    early.restore(w);
    expect(w[0][0]).toBe(7);
    expect(early.observe(1, 0.5, w)).toBe(false);
    w[0][0] = 8;
    expect(early.observe(2, 0.4, w)).toBe(false);
    w[0][0] = 9;
    expect(early.observe(3, 0.6, w)).toBe(true);
    early.restore(w);
    expect(w[0][0]).toBe(8);
    expect(early.bestEpoch).toBe(2);
  });
});
