import { OptionError } from "../core/errors.ts";
import { type BiquadCoefficients, biquadFilterInPlace } from "../dsp/biquad.ts";

/**
 * Integrated loudness after ITU-R BS.1770-4 (10/2015), "Algorithms to measure audio programme loudness and
 * true-peak audio level", Annex 1. Platform-neutral (no node:* imports), float64 throughout.
 *
 * 1. K-weighting, per channel: a high-shelf "pre-filter" (stage 1, +4 dB above ~1.5 kHz, modelling the
 *    head) followed by the RLB high-pass (stage 2, ~38 Hz), both biquads starting from rest.
 * 2. Gating blocks of T_g = 400 ms overlapping by 75 %: block j covers samples
 *    [round(j fs / 10), round(j fs / 10) + round(0.4 fs)), for every j whose block lies inside the signal;
 *    z_ij = mean square of K-weighted channel i over block j.
 * 3. Block loudness l_j = -0.691 + 10 log10(sum_i G_i z_ij), with channel weights G_i (1 for every channel
 *    by default: mono, stereo, L/R/C; BS.1770 gives 1.41 to the surround channels and excludes the LFE; pass
 *    `channelWeights` for such layouts).
 * 4. Absolute gate: the blocks with l_j > -70 LKFS. Relative gate: Gamma_r = -0.691 + 10 log10(sum_i G_i
 *    mean_j z_ij over the absolute-gated blocks) - 10 LU. Integrated loudness
 *    L_K = -0.691 + 10 log10(sum_i G_i mean_j z_ij) over the blocks with l_j > -70 and l_j > Gamma_r.
 *
 * The -0.691 dB offset cancels the K-weighting's gain at 997 Hz (+0.6910 dB; +0.6977 dB at 1 kHz), so a
 * 997 Hz sine of amplitude 0.1 (peak -20 dBFS, mean square 0.005 = -23.0103 dB) in one channel reads
 * -0.691 - 23.0103 + 0.6910 = -23.0103 LUFS (a 1 kHz one -23.0036). This is the level check of the EBU's test signals (EBU Tech 3341,
 * case 1: a stereo 1 kHz sine at -23 dBFS per channel reads -23.0 LUFS).
 *
 * Return values: -Infinity when every block is gated out (silence, or a signal below -70 LUFS throughout);
 * NaN when the audio is shorter than one 400 ms block (BS.1770 defines no loudness for it).
 */

/** BS.1770-4 Table 1: stage 1 (pre-filter) at 48 kHz. */
export const BS1770_STAGE1_48K: BiquadCoefficients = {
  b0: 1.53512485958697,
  b1: -2.69169618940638,
  b2: 1.19839281085285,
  a1: -1.69065929318241,
  a2: 0.73248077421585,
};

/** BS.1770-4 Table 2: stage 2 (RLB high-pass) at 48 kHz. */
export const BS1770_STAGE2_48K: BiquadCoefficients = {
  b0: 1,
  b1: -2,
  b2: 1,
  a1: -1.99004745483398,
  a2: 0.99007225036621,
};

/** Blocks quieter than this are ignored (LKFS). */
export const ABSOLUTE_GATE_LUFS = -70;
/** Blocks more than this far below the absolute-gated loudness are ignored (LU). */
export const RELATIVE_GATE_LU = -10;
/** Gating block length and step, seconds. */
export const BLOCK_SECONDS = 0.4;
export const BLOCK_STEP_SECONDS = 0.1;

// Analog prototypes of the two stages, fitted so that the bilinear transform at 48 kHz gives the standard's
// tables (to ~1e-14); the values are libebur128's (jiixyj/libebur128, ebur128.c, ebur128_init_filter).
const SHELF_HZ = 1681.974450955533;
const SHELF_GAIN_DB = 3.999843853973347;
const SHELF_Q = 0.7071752369554196;
/** Vb = Vh^SHELF_BAND_EXPONENT: the shelf's mid-band numerator coefficient. */
const SHELF_BAND_EXPONENT = 0.4996667741545416;
/** K-weighting needs sample rates above this (Hz): the shelf's centre must lie below Nyquist. */
export const K_WEIGHTING_MIN_RATE = 2 * SHELF_HZ;
const HIGHPASS_HZ = 38.13547087602444;
const HIGHPASS_Q = 0.5003270373238773;

/**
 * The two K-weighting biquads at `sampleRate`. The standard tabulates coefficients only for 48 kHz; other
 * rates are derived from the analog prototypes the 48 kHz table is the bilinear transform of (the approach of
 * libebur128):
 *   stage 1: H(s) = (Vh s^2 + Vb (w0/Q) s + w0^2) / (s^2 + (w0/Q) s + w0^2), w0 = 2 pi 1681.97 Hz,
 *            Q = 0.70718, Vh = 10^(3.99984 / 20) (gain at high frequencies), Vb = Vh^0.49967;
 *   stage 2: H(s) = s^2 / (s^2 + (w0/Q) s + w0^2), w0 = 2 pi 38.135 Hz, Q = 0.50033,
 * each mapped with s = w0 / K (1 - z^-1) / (1 + z^-1), K = tan(pi f0 / fs) (bilinear transform prewarped at
 * f0), which gives
 *   stage 1: b = [Vh + Vb K/Q + K^2, 2 (K^2 - Vh), Vh - Vb K/Q + K^2] / a0,
 *            a = [1, 2 (K^2 - 1) / a0, (1 - K/Q + K^2) / a0], a0 = 1 + K/Q + K^2;
 *   stage 2: a as stage 1 with its own K and Q; b = [1, -2, 1] unnormalised, as the standard's table has it
 *            (so its passband gain is a0 = 1.005 at 48 kHz, +0.04 dB, exactly as in the standard).
 * At 48 kHz this reproduces Tables 1 and 2 to 1e-13. Needs fs > 2 * 1682 Hz (the shelf below Nyquist).
 */
export function kWeighting(sampleRate: number): [BiquadCoefficients, BiquadCoefficients] {
  if (!(Number.isFinite(sampleRate) && sampleRate > K_WEIGHTING_MIN_RATE)) {
    throw new OptionError(
      "eval/sample-rate",
      `K-weighting needs a sample rate above ${Math.ceil(K_WEIGHTING_MIN_RATE)} Hz, got ${sampleRate}`,
    );
  }
  let k = Math.tan((Math.PI * SHELF_HZ) / sampleRate);
  const vh = 10 ** (SHELF_GAIN_DB / 20);
  const vb = vh ** SHELF_BAND_EXPONENT;
  let a0 = 1 + k / SHELF_Q + k * k;
  const shelf = {
    b0: (vh + (vb * k) / SHELF_Q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / SHELF_Q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / SHELF_Q + k * k) / a0,
  };
  k = Math.tan((Math.PI * HIGHPASS_HZ) / sampleRate);
  a0 = 1 + k / HIGHPASS_Q + k * k;
  const highpass = {
    b0: 1,
    b1: -2,
    b2: 1,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / HIGHPASS_Q + k * k) / a0,
  };
  return [shelf, highpass];
}

/** `channel` through both K-weighting stages (from rest) into a new Float64Array. */
export function kWeight(channel: ArrayLike<number>, sampleRate: number): Float64Array {
  const output = new Float64Array(channel.length);
  for (let i = 0; i < channel.length; i++) output[i] = channel[i]!;
  for (const c of kWeighting(sampleRate)) biquadFilterInPlace(output, c);
  return output;
}

export interface LoudnessOptions {
  /** G_i per channel (default 1 for every channel; 0 excludes a channel, e.g. the LFE). */
  channelWeights?: readonly number[];
}

/**
 * Integrated loudness of `channels` (one array per channel, equal lengths) in LUFS (= LKFS), per
 * ITU-R BS.1770-4 with its two gates; see the module comment. -Infinity when every block is gated out,
 * NaN when the audio is shorter than one 400 ms block.
 */
export function integratedLoudness(
  channels: readonly ArrayLike<number>[],
  sampleRate: number,
  options: LoudnessOptions = {},
): number {
  if (channels.length === 0) throw new OptionError("eval/channels", "integratedLoudness: no channels");
  const frames = channels[0]!.length;
  channels.forEach((channel, c) => {
    if (channel.length !== frames) {
      throw new OptionError(
        "eval/length",
        `integratedLoudness: channel ${c} has ${channel.length} samples, channel 0 has ${frames}`,
      );
    }
  });
  const weights = options.channelWeights ?? channels.map(() => 1);
  if (weights.length !== channels.length || weights.some((w) => !(Number.isFinite(w) && w >= 0))) {
    throw new OptionError(
      "eval/channel-weights",
      `integratedLoudness: channelWeights must be ${channels.length} numbers >= 0, got [${weights.join(", ")}]`,
    );
  }
  const [shelf, highpass] = kWeighting(sampleRate);
  const blockLength = Math.round(BLOCK_SECONDS * sampleRate);
  const starts: number[] = [];
  for (let j = 0; ; j++) {
    const start = Math.round(j * BLOCK_STEP_SECONDS * sampleRate);
    if (start + blockLength > frames) break;
    starts.push(start);
  }
  if (starts.length === 0) return Number.NaN;

  // energy[j] = sum_i G_i z_ij, accumulated channel by channel (one K-weighted channel in memory at a time).
  const energy = new Float64Array(starts.length);
  const weighted = new Float64Array(frames);
  channels.forEach((channel, c) => {
    const weight = weights[c]!;
    if (weight === 0) return;
    for (let i = 0; i < frames; i++) weighted[i] = channel[i]!;
    biquadFilterInPlace(weighted, shelf);
    biquadFilterInPlace(weighted, highpass);
    starts.forEach((start, j) => {
      let sum = 0;
      for (let i = start; i < start + blockLength; i++) sum += weighted[i]! * weighted[i]!;
      energy[j]! += (weight * sum) / blockLength;
    });
  });

  const loudness = (z: number) => -0.691 + 10 * Math.log10(z);
  const gatedMean = (threshold: number): { mean: number; count: number } => {
    let sum = 0;
    let count = 0;
    for (const z of energy) {
      if (loudness(z) > threshold) {
        sum += z;
        count++;
      }
    }
    return { mean: count > 0 ? sum / count : 0, count };
  };
  const absolute = gatedMean(ABSOLUTE_GATE_LUFS);
  if (absolute.count === 0) return Number.NEGATIVE_INFINITY;
  const relativeGate = loudness(absolute.mean) + RELATIVE_GATE_LU;
  // A block counts when it passes both gates, i.e. the higher of the two thresholds.
  const gated = gatedMean(Math.max(ABSOLUTE_GATE_LUFS, relativeGate));
  return loudness(gated.mean);
}
