/**
 * Early stopping on a validation value, shared by the neural trainers: it keeps a copy of the
 * weights of the best epoch, says when `patience` epochs in a row brought no improvement, and
 * puts the best weights back at the end. Ties keep the earlier epoch (fewer epochs, same value).
 */
export class EarlyStopping {
  private best: number;
  private sinceBest = 0;
  private snapshot: Float32Array[] | null = null;
  /** The epoch of the best value so far (0 before any). */
  bestEpoch = 0;

  constructor(
    private readonly patience: number,
    private readonly higherIsBetter = true,
  ) {
    this.best = higherIsBetter ? -Infinity : Infinity;
  }

  /**
   * Records the validation value after `epoch`; `weights` are the model's live arrays (copied
   * only on an improvement). Returns true when training should stop now.
   */
  observe(epoch: number, value: number, weights: readonly Float32Array[]): boolean {
    if (this.higherIsBetter ? value > this.best : value < this.best) {
      this.best = value;
      this.bestEpoch = epoch;
      this.snapshot = weights.map((a) => a.slice());
      this.sinceBest = 0;
      return false;
    }
    return ++this.sinceBest >= this.patience;
  }

  /** Copies the best epoch's weights back into `weights` (nothing when no value was observed). */
  restore(weights: readonly Float32Array[]): void {
    this.snapshot?.forEach((a, i) => weights[i].set(a));
  }
}
