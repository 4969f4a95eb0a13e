import type { Floats } from "../../nn/kernels/types.ts";

/**
 * The training losses' contract. A loss compares a prediction with a target, both audio batches laid out
 * [batch, channels, length] (row-major: each [channel, time] row is `length` contiguous samples), and
 * returns one number; `backward` then adds d loss / d prediction into a gradient buffer of the same layout.
 *
 * Every loss first drops the first `maskFirst` samples of every row (the model's receptive field / burn-in,
 * NAM's `mask_first`) and evaluates on what is left, the "segment". Those samples get exactly zero gradient.
 * Pre-emphasis filters run on the segment (samples before its start count as zeros), so nothing before the
 * mask leaks into the loss. A sum applies its own `maskFirst` first and its terms then apply theirs.
 */

/** The shape of both arrays given to `Loss.forward`: [batch, channels, length]. */
export interface LossShape {
  batch: number;
  channels: number;
  length: number;
}

export interface Loss {
  /** Short human-readable description for logs ("esr+highpass(0.85)", "1*mse + 0.5*mrstft"). */
  readonly name: string;
  /** Loss value for prediction vs target, both [B, C, T]; the first `maskFirst` samples of every row are excluded. */
  forward(prediction: Floats, target: Floats, shape: LossShape): number;
  /** gradient[i] += d loss / d prediction[i] for the last forward call's inputs (call forward first). */
  backward(gradient: Floats): void;
  /** JSON-serialisable options with every default filled in; `createLoss(loss.toConfig())` rebuilds it. */
  toConfig(): LossConfig;
}

/**
 * Pre-emphasis: a fixed FIR filter applied to both prediction and target before the loss, after Wright &
 * Välimäki, "Perceptual loss function for neural modelling of audio systems", ICASSP 2020
 * (arXiv:1911.08922), and auraloss `FIRFilter`.
 *  - highpass: first-order high-pass y[n] = x[n] - a x[n-1] (a = 0.85 in NAM's trainer and auraloss,
 *    0.95 in PedalNet and Wright et al. 2020).
 *  - folded: folded differentiator y[n] = x[n] - a x[n-2] (band-pass: zeros at 0 Hz and Nyquist for a = 1).
 *  - aweighting: a linear-phase FIR least-squares fit of the IEC A-weighting curve, centred (zero-phase).
 */
export type PreEmphasisConfig =
  | { type: "highpass"; coefficient?: number }
  | { type: "folded"; coefficient?: number }
  | { type: "aweighting"; sampleRate?: number; taps?: number };

/** Options every single (non-sum) loss accepts. */
export interface CommonLossConfig {
  /** Samples at the start of every row that carry no loss (>= 0, < row length). Default 0. */
  maskFirst?: number;
  /** Filter applied to prediction and target first. Default: none. */
  preEmphasis?: PreEmphasisConfig;
}

export interface MseConfig extends CommonLossConfig {
  type: "mse";
}

export interface L1Config extends CommonLossConfig {
  type: "l1";
}

export interface EsrConfig extends CommonLossConfig {
  type: "esr";
  /** Added to the target's mean square (not its sum, so it does not scale with the batch). Default 1e-8. */
  eps?: number;
}

export interface DcConfig extends CommonLossConfig {
  type: "dc";
  /** Added to the target's mean square. Default 1e-8. */
  eps?: number;
}

export interface MrStftConfig extends CommonLossConfig {
  type: "mrstft";
  /** FFT sizes, powers of two >= 4. Default [1024, 2048, 512] (auraloss MultiResolutionSTFTLoss). */
  fftSizes?: number[];
  /** Hop sizes in samples, one per FFT size. Default [120, 240, 50]. */
  hopSizes?: number[];
  /** Hann window lengths in samples (<= the FFT size, zero-padded to it, centred). Default [600, 1200, 240]. */
  windowLengths?: number[];
  /** Weight of the spectral convergence term. Default 1. */
  spectralConvergenceWeight?: number;
  /** Weight of the log-magnitude L1 term. Default 1. */
  logMagnitudeWeight?: number;
  /** Floor of the squared magnitude, magnitude = sqrt(max(re^2 + im^2, eps)). Default 1e-8 (auraloss). */
  eps?: number;
}

export interface SumTermConfig {
  /** >= 0. */
  weight: number;
  loss: LossConfig;
}

export interface SumConfig {
  type: "sum";
  /** Dropped before the terms see the rows; each term may drop more. Default 0. */
  maskFirst?: number;
  terms: SumTermConfig[];
}

export type LossConfig = MseConfig | L1Config | EsrConfig | DcConfig | MrStftConfig | SumConfig;

export type LossType = LossConfig["type"];
