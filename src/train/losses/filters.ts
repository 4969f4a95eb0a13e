import type { Floats } from "../../nn/kernels/types.ts";

/**
 * Pre-emphasis filters for the losses (Wright & Välimäki, "Perceptual loss function for neural modelling of
 * audio systems", ICASSP 2020, arXiv:1911.08922; auraloss `perceptual.py` `FIRFilter`). All are fixed FIR
 * filters, so a loss sees y = H x for both prediction and target and its gradient goes back through H^T
 * (a correlation with the taps).
 *
 * Convention: y[n] = sum_k taps[k] * x[n - k + advance] over one row segment of `length` samples, with
 * x = 0 outside [0, length) (zero initial state, no look-ahead past the end). `advance` = 0 is a causal
 * filter; `advance` = (K - 1) / 2 with symmetric taps is a centred, zero-phase filter (what auraloss does
 * with `Conv1d(padding=ntaps // 2)`).
 */
export interface FirFilter {
  /** [K] taps. */
  readonly taps: Float64Array;
  /** Look-ahead in samples: output n reads inputs n - K + 1 + advance .. n + advance. */
  readonly advance: number;
}

/**
 * First-order high-pass y[n] = x[n] - a x[n-1]: |H| = 1 - a at 0 Hz, 1 + a at Nyquist. NAM's trainer and
 * auraloss use a = 0.85, PedalNet and Wright et al. 2020 use 0.95. (auraloss's Conv1d form is the time
 * reverse, x[n-1] - a x[n], with the same magnitude response; NAM's `apply_pre_emphasis_filter` is this one
 * but drops the first output sample instead of assuming x[-1] = 0.)
 */
export function highpassFilter(coefficient: number): FirFilter {
  return { taps: Float64Array.of(1, -coefficient), advance: 0 };
}

/** Folded differentiator y[n] = x[n] - a x[n-2] (auraloss "fd"): zeros near 0 Hz and Nyquist, peak at fs/4. */
export function foldedDifferentiatorFilter(coefficient: number): FirFilter {
  return { taps: Float64Array.of(1, 0, -coefficient), advance: 0 };
}

/** Centred (zero-phase) A-weighting FIR, see `aWeightingTaps`. */
export function aWeightingFilter(sampleRate: number, taps: number): FirFilter {
  return { taps: aWeightingTaps(sampleRate, taps), advance: (taps - 1) / 2 };
}

// IEC 61672 (IEC/CD 1672 in auraloss) analog A-weighting pole frequencies in Hz, and the gain in dB that
// makes the response 0 dB at 1 kHz.
const F1 = 20.598997;
const F2 = 107.65265;
const F3 = 737.86223;
const F4 = 12194.217;
const A1000_DB = 1.9997;

/**
 * |H_A(j Omega)| of the analog A-weighting filter,
 *   H_A(s) = K s^4 / ((s + w4)^2 (s + w1)^2 (s + w3)(s + w2)),  wi = 2 pi Fi,  K = w4^2 10^(A1000 / 20).
 * `omega` in rad/s.
 */
function analogAWeightingMagnitude(omega: number): number {
  const w1 = 2 * Math.PI * F1;
  const w2 = 2 * Math.PI * F2;
  const w3 = 2 * Math.PI * F3;
  const w4 = 2 * Math.PI * F4;
  const o2 = omega * omega;
  const gain = w4 * w4 * 10 ** (A1000_DB / 20);
  return (gain * o2 * o2) / ((o2 + w4 * w4) * (o2 + w1 * w1) * Math.sqrt((o2 + w3 * w3) * (o2 + w2 * w2)));
}

/**
 * A-weighting pre-emphasis taps, designed as auraloss `FIRFilter(filter_type="aw", fs, ntaps=101)` does:
 *  1. the analog A-weighting filter goes digital by the bilinear transform without pre-warping
 *     (`scipy.signal.bilinear`), so the digital magnitude at f Hz is |H_A(j 2 fs tan(pi f / fs))|;
 *  2. that magnitude is sampled at the 512 frequencies f_i = i fs / 1024, i = 0..511 (`scipy.signal.freqz`,
 *     worN = 512);
 *  3. a type-I linear-phase FIR of `taps` (odd) coefficients is fitted by least squares
 *     (`scipy.signal.firls(ntaps, f, |H|, fs)`). firls reads the 512 frequencies as 256 bands
 *     [f_0, f_1], [f_2, f_3], ... with the desired magnitude linear inside each band and the gaps between
 *     bands "don't care"; we reproduce exactly that criterion.
 * The result is symmetric, ~0 dB at 1 kHz; 101 taps cannot reach the -30 dB of true A-weighting at 50 Hz
 * (about -18 dB at 48 kHz, -19 dB at 44.1 kHz), nor its zero at DC (about -20 dB).
 */
export function aWeightingTaps(sampleRate: number, taps: number): Float64Array {
  const points = 512;
  const edges = new Float64Array(points); // normalised angular frequency omega = 2 pi f / fs, in [0, pi)
  const desired = new Float64Array(points);
  for (let i = 0; i < points; i++) {
    const hz = (i * sampleRate) / (2 * points);
    edges[i] = (2 * Math.PI * hz) / sampleRate;
    desired[i] = analogAWeightingMagnitude(2 * sampleRate * Math.tan((Math.PI * hz) / sampleRate));
  }
  return leastSquaresLinearPhaseFir(taps, edges, desired);
}

/**
 * Least-squares type-I FIR (odd `taps`, symmetric), the criterion of `scipy.signal.firls` with unit band
 * weights: minimise sum over bands [w_a, w_b] of the integral of (A(w) - D(w))^2 dw, where D is linear from
 * desired[a] to desired[b] across the band and A(w) = c_0 + 2 sum_{m=1}^{M} c_m cos(m w) is the amplitude
 * response of h[M] = c_0, h[M +- m] = c_m, M = (taps - 1) / 2. `edges` are pairs of band edges in rad/sample.
 * Normal equations G c = r, with phi_0 = 1, phi_m = 2 cos(m w) and closed-form integrals; solved by
 * Gaussian elimination with partial pivoting (G is symmetric positive definite).
 */
export function leastSquaresLinearPhaseFir(
  taps: number,
  edges: ArrayLike<number>,
  desired: ArrayLike<number>,
): Float64Array {
  const order = (taps - 1) / 2;
  const size = order + 1;
  const gram = new Float64Array(size * size);
  const rhs = new Float64Array(size);
  // integral of cos(q w) dw over [a, b]
  const cosIntegral = (q: number, a: number, b: number): number =>
    q === 0 ? b - a : (Math.sin(q * b) - Math.sin(q * a)) / q;
  for (let band = 0; band + 1 < edges.length; band += 2) {
    const a = edges[band]!;
    const b = edges[band + 1]!;
    const slope = (desired[band + 1]! - desired[band]!) / (b - a);
    const offset = desired[band]! - slope * a;
    for (let l = 0; l < size; l++) {
      const sl = l === 0 ? 1 : 2;
      for (let m = 0; m <= l; m++) {
        const sm = m === 0 ? 1 : 2;
        // integral of phi_l phi_m = sl sm / 2 * (C(l - m) + C(l + m))
        gram[l * size + m]! += ((sl * sm) / 2) * (cosIntegral(l - m, a, b) + cosIntegral(l + m, a, b));
      }
      // integral of (slope w + offset) cos(l w) dw
      let value: number;
      if (l === 0) {
        value = (slope * (b * b - a * a)) / 2 + offset * (b - a);
      } else {
        const at = (w: number): number =>
          ((slope * w + offset) * Math.sin(l * w)) / l + (slope * Math.cos(l * w)) / (l * l);
        value = at(b) - at(a);
      }
      rhs[l]! += sl * value;
    }
  }
  for (let l = 0; l < size; l++) for (let m = l + 1; m < size; m++) gram[l * size + m] = gram[m * size + l]!;
  const c = solveLinear(gram, rhs, size);
  const h = new Float64Array(taps);
  h[order] = c[0]!;
  for (let m = 1; m <= order; m++) {
    h[order + m] = c[m]!;
    h[order - m] = c[m]!;
  }
  return h;
}

/** Solves A x = b for a dense [n, n] row-major A (overwritten) by Gaussian elimination with partial pivoting. */
function solveLinear(matrix: Float64Array, b: Float64Array, n: number): Float64Array {
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) {
      if (Math.abs(matrix[row * n + col]!) > Math.abs(matrix[pivot * n + col]!)) pivot = row;
    }
    if (pivot !== col) {
      for (let k = 0; k < n; k++) {
        const t = matrix[col * n + k]!;
        matrix[col * n + k] = matrix[pivot * n + k]!;
        matrix[pivot * n + k] = t;
      }
      const t = x[col]!;
      x[col] = x[pivot]!;
      x[pivot] = t;
    }
    const diagonal = matrix[col * n + col]!;
    for (let row = col + 1; row < n; row++) {
      const factor = matrix[row * n + col]! / diagonal;
      if (factor === 0) continue;
      for (let k = col; k < n; k++) matrix[row * n + k]! -= factor * matrix[col * n + k]!;
      x[row]! -= factor * x[col]!;
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    let sum = x[row]!;
    for (let k = row + 1; k < n; k++) sum -= matrix[row * n + k]! * x[k]!;
    x[row] = sum / matrix[row * n + row]!;
  }
  return x;
}

/**
 * y[yOffset + n] = sum_k taps[k] x[xOffset + n - k + advance] for n in [0, length), reading x as zero outside
 * its segment [xOffset, xOffset + length). Overwrites y. x and y must not overlap.
 */
export function firForward(
  y: Floats,
  yOffset: number,
  x: Floats,
  xOffset: number,
  length: number,
  filter: FirFilter,
): void {
  const { taps, advance } = filter;
  const last = taps.length - 1;
  for (let n = 0; n < length; n++) {
    // input index j = n - k + advance must lie in [0, length)
    const kStart = Math.max(0, n + advance - (length - 1));
    const kEnd = Math.min(last, n + advance);
    let sum = 0;
    for (let k = kStart; k <= kEnd; k++) sum += taps[k]! * x[xOffset + n - k + advance]!;
    y[yOffset + n] = sum;
  }
}

/**
 * The transpose of `firForward`: dx[dxOffset + j] += scale * sum_k taps[k] dy[dyOffset + j + k - advance],
 * summing over the outputs j + k - advance in [0, length) (a correlation with the taps). Adds into dx.
 */
export function firBackward(
  dx: Floats,
  dxOffset: number,
  dy: Floats,
  dyOffset: number,
  length: number,
  filter: FirFilter,
  scale: number,
): void {
  const { taps, advance } = filter;
  const last = taps.length - 1;
  for (let j = 0; j < length; j++) {
    const kStart = Math.max(0, advance - j);
    const kEnd = Math.min(last, length - 1 - j + advance);
    let sum = 0;
    for (let k = kStart; k <= kEnd; k++) sum += taps[k]! * dy[dyOffset + j + k - advance]!;
    dx[dxOffset + j]! += scale * sum;
  }
}
