/**
 * Feature binning for histogram tree growth: each feature's values are cut once, by
 * quantiles of the training rows, into at most `maxBins` value bins; every row becomes one
 * byte per feature. Bin 0 of every feature is "missing" (NaN); value bins are 1..B.
 *
 * A value v falls in the smallest bin b with v <= upper(b), and upper(B) is +Infinity. The
 * upper bounds are float32 values lying between two distinct training values, so a split
 * "bin <= b" is exactly the raw test "v <= upper(b)" on any float32 value: the scorer needs
 * no binning and routes every training row exactly as the trainer did.
 */

/** Rows sampled (evenly spaced, so deterministic) per feature to find the cut points: LightGBM's bin_construct_sample_cnt. */
const SAMPLE_ROWS = 200_000;

export interface FeatureBins {
  nFeatures: number;
  /** Value bins of feature f: 1..valueBins[f] (bin 0 is missing). */
  valueBins: Int32Array;
  /** upper(f, b) = upper[upperStart[f] + b - 1] for b in 1..valueBins[f]. */
  upperStart: Int32Array;
  upper: Float32Array;
  /** Start of feature f's slots in a histogram (valueBins[f] + 1 slots: missing first). */
  histStart: Int32Array;
  /** Histogram slots over all features. */
  totalSlots: number;
}

/**
 * Cut points of every feature over the rows `rows` of a row-major matrix (nFeatures
 * columns). maxBins <= 255 so a bin fits a byte with the missing bin.
 */
export function findBins(features: Float32Array, nFeatures: number, rows: Int32Array, maxBins: number): FeatureBins {
  const stride = Math.max(1, Math.ceil(rows.length / SAMPLE_ROWS));
  const sample = new Float32Array(Math.ceil(rows.length / stride));
  const valueBins = new Int32Array(nFeatures);
  const upperStart = new Int32Array(nFeatures + 1);
  const uppers: Float32Array[] = [];
  for (let f = 0; f < nFeatures; f++) {
    let n = 0;
    for (let k = 0; k < rows.length; k += stride) {
      const v = features[rows[k] * nFeatures + f];
      if (v === v) sample[n++] = v;
    }
    const cuts = cutPoints(sample.subarray(0, n).sort(), maxBins);
    uppers.push(cuts);
    valueBins[f] = cuts.length;
    upperStart[f + 1] = upperStart[f] + cuts.length;
  }
  const upper = new Float32Array(upperStart[nFeatures]);
  for (let f = 0; f < nFeatures; f++) upper.set(uppers[f], upperStart[f]);
  const histStart = new Int32Array(nFeatures + 1);
  for (let f = 0; f < nFeatures; f++) histStart[f + 1] = histStart[f] + valueBins[f] + 1;
  return { nFeatures, valueBins, upperStart: upperStart.subarray(0, nFeatures), upper, histStart, totalSlots: histStart[nFeatures] };
}

/**
 * Upper bounds of the value bins of one feature from its sorted finite-or-infinite values:
 * each distinct value gets its own bin while there are at most maxBins of them; otherwise a
 * bin closes once it holds its share of the remaining values (recomputed after every bin,
 * so a value repeated for most rows takes one bin and the rest still spread by quantile).
 * The last bound is +Infinity.
 */
function cutPoints(sorted: Float32Array, maxBins: number): Float32Array {
  const n = sorted.length;
  const cuts: number[] = [];
  if (n === 0) return Float32Array.of(Infinity);
  let distinct = 1;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  let inBin = 0;
  let binsLeft = maxBins;
  let target = distinct <= maxBins ? 0 : n / maxBins;
  for (let i = 0; i < n; i++) {
    inBin++;
    const last = i + 1 === n || sorted[i + 1] !== sorted[i];
    if (!last || i + 1 === n) continue;
    if (inBin >= target && binsLeft > 1) {
      cuts.push(between(sorted[i], sorted[i + 1]));
      binsLeft--;
      inBin = 0;
      if (distinct > maxBins) target = (n - i - 1) / binsLeft;
    }
  }
  cuts.push(Infinity);
  return Float32Array.from(cuts);
}

/** A float32 t with lo <= t < hi (the midpoint when it rounds below hi, else lo). */
function between(lo: number, hi: number): number {
  const mid = Math.fround(lo / 2 + hi / 2);
  return mid >= lo && mid < hi ? mid : lo;
}

/** The bin of value v of feature f (0 for NaN). */
export function binOf(bins: FeatureBins, f: number, v: number): number {
  if (v !== v) return 0;
  const { upper } = bins;
  let lo = bins.upperStart[f];
  let hi = lo + bins.valueBins[f] - 1;
  const start = lo;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= upper[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo - start + 1;
}

/** The raw threshold of the split "bin <= b" of feature f. */
export function upperBound(bins: FeatureBins, f: number, b: number): number {
  return bins.upper[bins.upperStart[f] + b - 1];
}

/** Rows `rows` of the matrix as bytes, row-major: out[k * nFeatures + f] is the bin of rows[k]. */
export function binRows(bins: FeatureBins, features: Float32Array, rows: Int32Array): Uint8Array {
  const F = bins.nFeatures;
  const out = new Uint8Array(rows.length * F);
  for (let k = 0; k < rows.length; k++) {
    const base = rows[k] * F;
    for (let f = 0; f < F; f++) out[k * F + f] = binOf(bins, f, features[base + f]);
  }
  return out;
}
