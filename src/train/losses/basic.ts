/**
 * Time-domain loss kernels over row segments already cropped (and pre-emphasised) into float64 scratch:
 * x (prediction) and y (target) are [rows, n] row-major, rows = batch * channels. Forward functions return
 * the loss; backward functions ADD d loss / d x into gx (same layout). Pure functions, no allocation.
 */

/** Mean squared error: (1 / (rows n)) sum (x - y)^2. */
export function mseForward(x: Float64Array, y: Float64Array, rows: number, n: number): number {
  const count = rows * n;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const d = x[i]! - y[i]!;
    sum += d * d;
  }
  return sum / count;
}

/** gx += 2 (x - y) / (rows n). */
export function mseBackward(
  gx: Float64Array,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  n: number,
): void {
  const count = rows * n;
  const scale = 2 / count;
  for (let i = 0; i < count; i++) gx[i]! += scale * (x[i]! - y[i]!);
}

/** Mean absolute error: (1 / (rows n)) sum |x - y|. */
export function l1Forward(x: Float64Array, y: Float64Array, rows: number, n: number): number {
  const count = rows * n;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / count;
}

/** gx += sign(x - y) / (rows n), with sign(0) = 0 (the subgradient PyTorch's abs uses). */
export function l1Backward(
  gx: Float64Array,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  n: number,
): void {
  const count = rows * n;
  const scale = 1 / count;
  for (let i = 0; i < count; i++) gx[i]! += scale * Math.sign(x[i]! - y[i]!);
}

/**
 * Error-to-signal ratio over the whole batch at once (Wright, Damskägg, Juvela & Välimäki, "Real-Time Guitar
 * Amplifier Emulation with Deep Learning", Appl. Sci. 10(3):766, 2020, Eq. (10)):
 *   ESR = mean (y - x)^2 / (mean y^2 + eps)  ==  sum (y - x)^2 / (sum y^2 + rows n eps).
 * Batch-wise, as the authors' CoreAudioML `ESRLoss` (means over all samples, eps = 1e-5). Note that NAM's
 * `nam.models.losses.esr` and auraloss `ESRLoss` instead average per-row ratios, and NAM's `ValidationLoss`
 * docstring warns that the two differ on minibatches (a silent row makes its own ratio explode); NAM only
 * uses ESR for validation, on one whole-file row, where they agree. Returns the ratio; `stats[0]` receives
 * the denominator mean y^2 + eps for the backward pass.
 */
export function esrForward(
  x: Float64Array,
  y: Float64Array,
  rows: number,
  n: number,
  eps: number,
  stats: Float64Array,
): number {
  const count = rows * n;
  let error = 0;
  let energy = 0;
  for (let i = 0; i < count; i++) {
    const d = y[i]! - x[i]!;
    error += d * d;
    energy += y[i]! * y[i]!;
  }
  const denominator = energy / count + eps;
  stats[0] = denominator;
  return error / count / denominator;
}

/** gx += 2 (x - y) / (rows n (mean y^2 + eps)); `denominator` = mean y^2 + eps from `esrForward`. */
export function esrBackward(
  gx: Float64Array,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  n: number,
  denominator: number,
): void {
  const count = rows * n;
  const scale = 2 / (count * denominator);
  for (let i = 0; i < count; i++) gx[i]! += scale * (x[i]! - y[i]!);
}

/**
 * DC loss, per row: the squared mean error of each [channel, time] row, averaged over rows, relative to the
 * target's mean square over the whole batch:
 *   DC = (1 / rows) sum_r (mean_t (y_rt - x_rt))^2 / (mean_{r,t} y^2 + eps)
 * (Wright, Damskägg & Välimäki, "Real-Time Black-Box Modelling with Recurrent Neural Networks", DAFx-19, and
 * Wright et al. 2020 above: E_DC = |mean(y - x)|^2 / mean(y^2); the per-sequence mean with a batch-wide
 * energy is what the authors' CoreAudioML `DCLoss` computes.) Per row, so that opposite offsets in two
 * rows do not cancel; batch-wide energy, so that one quiet row does not dominate. `means` ([rows]) receives
 * each row's mean error y - x; `stats[0]` the denominator.
 */
export function dcForward(
  x: Float64Array,
  y: Float64Array,
  rows: number,
  n: number,
  eps: number,
  means: Float64Array,
  stats: Float64Array,
): number {
  let energy = 0;
  let sumSquaredMeans = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let t = r * n, end = t + n; t < end; t++) {
      sum += y[t]! - x[t]!;
      energy += y[t]! * y[t]!;
    }
    const mean = sum / n;
    means[r] = mean;
    sumSquaredMeans += mean * mean;
  }
  const denominator = energy / (rows * n) + eps;
  stats[0] = denominator;
  return sumSquaredMeans / rows / denominator;
}

/** gx[r, t] += -2 mean_r / (rows n denominator), from `dcForward`'s `means` and `stats[0]`. */
export function dcBackward(
  gx: Float64Array,
  rows: number,
  n: number,
  means: Float64Array,
  denominator: number,
): void {
  const scale = -2 / (rows * n * denominator);
  for (let r = 0; r < rows; r++) {
    const g = scale * means[r]!;
    for (let t = r * n, end = t + n; t < end; t++) gx[t]! += g;
  }
}
