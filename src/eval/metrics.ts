import { OptionError } from "../core/errors.ts";
import {
  type BiquadCoefficients,
  biquadCoefficients,
  biquadFilterInPlace,
  butterworthQs,
} from "../dsp/biquad.ts";
import { hannWindow, RealFft } from "../dsp/fft.ts";
import { createLoss, DEFAULT_RESOLUTIONS, type StftResolution } from "../train/losses/index.ts";
import { integratedLoudness, K_WEIGHTING_MIN_RATE } from "./loudness.ts";
import type { BandError, Comparison, Metrics } from "./types.ts";

/**
 * Objective scores of an output against a target (src/eval/types.ts). Audio is one array per channel; output
 * and target must have the same channels and lengths. Every sum runs over all channels and samples together
 * (a stereo file is scored as one signal, as the batch-wise training losses do). Float64 throughout.
 *
 * With y the target, yhat the output and e = y - yhat, summed over channels c and samples n (N in all):
 *   mse       = sum e^2 / N;  rmse = sqrt(mse);  errorStd = sqrt(sum (e - mean e)^2 / N) (population std,
 *               numpy's default; rmse^2 = errorStd^2 + (mean e)^2, so they differ by the error's DC offset);
 *   esr       = sum e^2 / sum y^2, the error-to-signal ratio (Wright, Damskägg & Välimäki, "Real-time
 *               black-box modelling with recurrent neural networks", DAFx 2019; Wright et al., Appl. Sci.
 *               10(3):766, 2020, Eq. 10), with no epsilon: a metric, not a loss;
 *   esrPreEmphasis = the same after y[n] - 0.85 y[n-1] on both signals (first-order high-pass, zero before
 *               the first sample; the coefficient NAM's trainer and auraloss use: Wright & Välimäki,
 *               "Perceptual loss function for neural modelling of audio systems", ICASSP 2020);
 *   snrDb     = 10 log10(sum y^2 / sum e^2) = -10 log10(esr).
 * Edge cases, documented rather than thrown: identical signals (sum e^2 = 0) give esr 0 and snrDb +Infinity,
 * even when both are silent; a silent target with a non-zero error gives esr +Infinity and snrDb -Infinity.
 * The same rule holds for esrPreEmphasis and every band's ESR. (JSON has no infinities: `deepsp eval --json`
 * writes them as null.)
 *
 * mrstft: the multi-resolution STFT distance of the training loss (`createLoss({ type: "mrstft" })`,
 * src/train/losses/stft.ts: auraloss MultiResolutionSTFTLoss defaults, FFT sizes 1024/2048/512, hops
 * 120/240/50, Hann windows 600/1200/240, spectral convergence + mean |log magnitude ratio|, channels as the
 * rows of one batch). Long audio is scored in segments of MRSTFT_SEGMENT_SAMPLES (the last one takes the
 * remainder, so segments hold 2^19 to 2^20 - 1 samples) and the segment values are averaged weighted by
 * length: that bounds the loss's scratch memory (it keeps every frame's spectrum, ~125 bytes per sample per
 * channel for the 512-point resolution), and below 2^20 samples (21.8 s at 48 kHz) it is exactly the loss
 * over the whole signal. Audio shorter than the largest FFT (2048) uses the defaults with every size, hop and
 * window divided by the smallest power of two that makes the largest FFT fit (hops and windows rounded;
 * `mrstftFftSizes` says which were used); below 16 samples it is NaN (`mrstftFftSizes` empty).
 *
 * logSpectralDistanceDb (after Gray & Markel, "Distance measures for speech processing", IEEE Trans. ASSP
 * 24(5), 1976, the RMS log spectral distance; the frame-averaged form used for audio super-resolution by
 * Kuleshov, Enam & Ermon, "Audio super resolution using neural networks", ICLR workshop 2017):
 *   frames of LSD_FFT_SIZE = 2048 samples every LSD_HOP_SIZE = 512, starting at sample 0, the last one
 *   zero-padded past the end (at least one frame), periodic Hann window w;
 *   P[t, k] = max(|X[t, k]|^2 / sum w^2, LSD_POWER_FLOOR), k = 0..1024 (white noise of variance s^2 has
 *   E P = s^2, so the floor 1e-10 is -100 dB re full-scale variance per bin, about 16-bit quantisation noise:
 *   differences below it do not count, and silent frames of both signals score 0);
 *   LSD[t] = sqrt(mean_k (10 log10(P_y[t, k] / P_yhat[t, k]))^2) dB;
 *   logSpectralDistanceDb = mean of LSD[t] over every frame of every channel.
 * A signal against itself scaled by 2 gives 10 log10(4) = 6.02 dB wherever it is above the floor.
 *
 * bands: ESR per octave band (src/eval/types.ts BandError). Centres 31.25 * 2^m Hz (31.25, 62.5, ..., 16000)
 * below Nyquist; edges centre / sqrt(2) and centre * sqrt(2). Each band is a 4th-order Butterworth high-pass at
 * the lower edge followed by a 4th-order Butterworth low-pass at the upper edge (two RBJ biquads each,
 * Q = 0.5412 and 1.3066; -3 dB at the edges, -0.53 dB at the centre, 24 dB per octave outside), run causally
 * from rest over the target and the error (the band error is the band-passed error, by linearity); where the
 * upper edge is at or above Nyquist (16 kHz at 44.1 kHz) the band is the high-pass alone and `highHz` is
 * Nyquist. A sine at a band's centre leaks -12.3 dB of its power into each neighbouring band and -36 dB two
 * bands away (analog Butterworth values; the bilinear transform bends them near Nyquist).
 *
 * loudnessDifferenceDb: integratedLoudness(output) - integratedLoudness(target), ITU-R BS.1770-4 (see
 * loudness.ts); 0 when both are silent (-Infinity LUFS), +-Infinity when only one is, NaN for audio shorter
 * than one 400 ms gating block or sample rates of 3364 Hz and below (no K-weighting there).
 */

/** Pre-emphasis coefficient a of y[n] - a y[n-1] for esrPreEmphasis. */
export const PRE_EMPHASIS_COEFFICIENT = 0.85;
/** Log-spectral distance: frame length (FFT size), hop and power floor. */
export const LSD_FFT_SIZE = 2048;
export const LSD_HOP_SIZE = 512;
export const LSD_POWER_FLOOR = 1e-10;
/** Octave bands: the lowest centre frequency, Hz; the others double it. */
export const LOWEST_BAND_HZ = 31.25;
/** Butterworth order of each band edge. */
export const BAND_EDGE_ORDER = 4;
/** MR-STFT: audio longer than this is scored in segments of this many samples (see the module comment). */
export const MRSTFT_SEGMENT_SAMPLES = 1 << 19;

/** Metrics with the optional details (src/eval/types.ts) always filled in, as computeMetrics returns them. */
export interface MetricDetails extends Metrics {
  /**
   * The FFT sizes `mrstft` used: auraloss's [1024, 2048, 512], or those scaled down for audio shorter than
   * 2048 samples; empty (and `mrstft` NaN) below 16 samples.
   */
  mrstftFftSizes: number[];
  /** Integrated loudness (BS.1770-4) of the output and of the target, LUFS. */
  outputLoudnessLufs: number;
  targetLoudnessLufs: number;
}

/** A Comparison whose two sets of scores carry their details. */
export interface DetailedComparison extends Comparison {
  model: MetricDetails;
  identity: MetricDetails;
}

/**
 * Every score of `output` against `target` (one array per channel, same channel count and lengths), at
 * `sampleRate` Hz. Throws an OptionError for a channel-count or length mismatch, no channels or no samples.
 */
export function computeMetrics(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
  sampleRate: number,
): MetricDetails {
  checkAudio(output, target, sampleRate, "output");
  const { mse, rmse, errorStd, esr, esrPreEmphasis, snrDb } = timeDomainScores(output, target);
  const mrstft = mrstftDistance(output, target);
  const outputLoudness = loudnessOrNaN(output, sampleRate);
  const targetLoudness = loudnessOrNaN(target, sampleRate);
  return {
    mse,
    rmse,
    errorStd,
    esr,
    esrPreEmphasis,
    snrDb,
    mrstft: mrstft.value,
    mrstftFftSizes: mrstft.fftSizes,
    logSpectralDistanceDb: logSpectralDistance(output, target),
    loudnessDifferenceDb: loudnessDifference(outputLoudness, targetLoudness),
    outputLoudnessLufs: outputLoudness,
    targetLoudnessLufs: targetLoudness,
    bands: bandErrors(output, target, sampleRate),
  };
}

/**
 * A model's scores read against doing nothing: `model` scores `output` against `target`, `identity` scores the
 * unprocessed `input` against the same target (what a model that passes the input through would get).
 */
export function compare(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
  input: readonly Float32Array[],
  sampleRate: number,
): DetailedComparison {
  checkAudio(input, target, sampleRate, "input");
  return {
    sampleRate,
    frames: target[0]!.length,
    model: computeMetrics(output, target, sampleRate),
    identity: computeMetrics(input, target, sampleRate),
  };
}

/** sum e^2 / sum y^2 with the edge cases of the module comment. */
export function errorToSignal(errorEnergy: number, signalEnergy: number): number {
  if (errorEnergy === 0) return 0;
  return signalEnergy === 0 ? Number.POSITIVE_INFINITY : errorEnergy / signalEnergy;
}

/** 10 log10(sum y^2 / sum e^2) with the edge cases of the module comment. */
export function signalToNoiseDb(errorEnergy: number, signalEnergy: number): number {
  if (errorEnergy === 0) return Number.POSITIVE_INFINITY;
  if (signalEnergy === 0) return Number.NEGATIVE_INFINITY;
  return 10 * Math.log10(signalEnergy / errorEnergy);
}

function checkAudio(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
  sampleRate: number,
  name: string,
): void {
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) {
    throw new OptionError(
      "eval/sample-rate",
      `sample rate must be a positive number of Hz, got ${sampleRate}`,
    );
  }
  if (target.length === 0) throw new OptionError("eval/channels", "the target has no channels");
  if (output.length !== target.length) {
    throw new OptionError(
      "eval/channels",
      `the ${name} has ${output.length} channel(s) but the target has ${target.length}: counts must match`,
    );
  }
  const frames = target[0]!.length;
  if (frames === 0) throw new OptionError("eval/empty", "the target has no samples");
  for (const [what, channels] of [
    [name, output],
    ["target", target],
  ] as const) {
    channels.forEach((channel, c) => {
      if (channel.length !== frames) {
        throw new OptionError(
          "eval/length",
          `${what} channel ${c} has ${channel.length} samples but target channel 0 has ${frames}: lengths must match`,
        );
      }
    });
  }
}

function timeDomainScores(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
): Pick<Metrics, "mse" | "rmse" | "errorStd" | "esr" | "esrPreEmphasis" | "snrDb"> {
  const a = PRE_EMPHASIS_COEFFICIENT;
  let errorEnergy = 0;
  let signalEnergy = 0;
  let errorSum = 0;
  let emphasisedError = 0;
  let emphasisedSignal = 0;
  let count = 0;
  for (let c = 0; c < target.length; c++) {
    const y = target[c]!;
    const x = output[c]!;
    let previousError = 0;
    let previousSignal = 0;
    for (let n = 0; n < y.length; n++) {
      const signal = y[n]!;
      const error = signal - x[n]!;
      errorEnergy += error * error;
      signalEnergy += signal * signal;
      errorSum += error;
      const pe = error - a * previousError;
      const ps = signal - a * previousSignal;
      emphasisedError += pe * pe;
      emphasisedSignal += ps * ps;
      previousError = error;
      previousSignal = signal;
    }
    count += y.length;
  }
  const mean = errorSum / count;
  let centred = 0;
  for (let c = 0; c < target.length; c++) {
    const y = target[c]!;
    const x = output[c]!;
    for (let n = 0; n < y.length; n++) {
      const d = y[n]! - x[n]! - mean;
      centred += d * d;
    }
  }
  const mse = errorEnergy / count;
  return {
    mse,
    rmse: Math.sqrt(mse),
    errorStd: Math.sqrt(centred / count),
    esr: errorToSignal(errorEnergy, signalEnergy),
    esrPreEmphasis: errorToSignal(emphasisedError, emphasisedSignal),
    snrDb: signalToNoiseDb(errorEnergy, signalEnergy),
  };
}

/**
 * The STFT resolutions the MR-STFT distance uses for segments of `frames` samples: auraloss's defaults, or
 * all of them scaled down by a power of two until the largest FFT fits (hops >= 1 and windows >= 2 samples,
 * rounded); null below 16 samples (the smallest FFT would drop under 4 points).
 */
export function mrstftResolutions(frames: number): StftResolution[] | null {
  const largest = Math.max(...DEFAULT_RESOLUTIONS.map((r) => r.fftSize));
  const smallest = Math.min(...DEFAULT_RESOLUTIONS.map((r) => r.fftSize));
  let scale = 1;
  while (largest / scale > frames) scale *= 2;
  if (smallest / scale < 4) return null;
  if (scale === 1) return DEFAULT_RESOLUTIONS.map((r) => ({ ...r }));
  return DEFAULT_RESOLUTIONS.map((r) => ({
    fftSize: r.fftSize / scale,
    hopSize: Math.max(1, Math.round(r.hopSize / scale)),
    windowLength: Math.max(2, Math.round(r.windowLength / scale)),
  }));
}

/**
 * The MR-STFT distance of `output` against `target` (see the module comment) and the FFT sizes it used.
 * One resolution at a time, segment by segment: the training loss (createLoss) does the work.
 */
export function mrstftDistance(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
): { value: number; fftSizes: number[] } {
  const channels = target.length;
  const frames = target[0]!.length;
  const resolutions = mrstftResolutions(frames);
  if (!resolutions) return { value: Number.NaN, fftSizes: [] };
  const segmentCount = Math.max(1, Math.floor(frames / MRSTFT_SEGMENT_SAMPLES));
  const segments: [number, number][] = [];
  for (let s = 0; s < segmentCount; s++) {
    const end = s === segmentCount - 1 ? frames : (s + 1) * MRSTFT_SEGMENT_SAMPLES;
    segments.push([s * MRSTFT_SEGMENT_SAMPLES, end]);
  }
  const longest = Math.max(...segments.map(([start, end]) => end - start));
  const prediction = new Float32Array(channels * longest);
  const reference = new Float32Array(channels * longest);
  let total = 0;
  for (const resolution of resolutions) {
    const loss = createLoss({
      type: "mrstft",
      fftSizes: [resolution.fftSize],
      hopSizes: [resolution.hopSize],
      windowLengths: [resolution.windowLength],
    });
    for (const [start, end] of segments) {
      const length = end - start;
      for (let c = 0; c < channels; c++) {
        prediction.set(output[c]!.subarray(start, end), c * length);
        reference.set(target[c]!.subarray(start, end), c * length);
      }
      const size = channels * length;
      const value = loss.forward(prediction.subarray(0, size), reference.subarray(0, size), {
        batch: 1,
        channels,
        length,
      });
      total += value * length;
    }
  }
  return { value: total / (frames * resolutions.length), fftSizes: resolutions.map((r) => r.fftSize) };
}

/** The log-spectral distance in dB (see the module comment for the exact definition). */
export function logSpectralDistance(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
): number {
  const size = LSD_FFT_SIZE;
  const bins = size / 2 + 1;
  const fft = new RealFft(size);
  const window = hannWindow(size);
  let windowPower = 0;
  for (let n = 0; n < size; n++) windowPower += window[n]! * window[n]!;
  const frameX = new Float64Array(size);
  const frameY = new Float64Array(size);
  const spectrumX = new Float64Array(size + 2);
  const spectrumY = new Float64Array(size + 2);
  let sum = 0;
  let frames = 0;
  for (let c = 0; c < target.length; c++) {
    const x = output[c]!;
    const y = target[c]!;
    const length = y.length;
    const count = length <= size ? 1 : Math.ceil((length - size) / LSD_HOP_SIZE) + 1;
    for (let f = 0; f < count; f++) {
      const start = f * LSD_HOP_SIZE;
      for (let n = 0; n < size; n++) {
        const i = start + n;
        frameX[n] = i < length ? x[i]! * window[n]! : 0;
        frameY[n] = i < length ? y[i]! * window[n]! : 0;
      }
      fft.forward(spectrumX, frameX);
      fft.forward(spectrumY, frameY);
      let squares = 0;
      for (let k = 0; k < bins; k++) {
        const px = Math.max(
          (spectrumX[2 * k]! ** 2 + spectrumX[2 * k + 1]! ** 2) / windowPower,
          LSD_POWER_FLOOR,
        );
        const py = Math.max(
          (spectrumY[2 * k]! ** 2 + spectrumY[2 * k + 1]! ** 2) / windowPower,
          LSD_POWER_FLOOR,
        );
        const d = 10 * Math.log10(py / px);
        squares += d * d;
      }
      sum += Math.sqrt(squares / bins);
      frames++;
    }
  }
  return sum / frames;
}

/** The octave bands scored at `sampleRate` (see the module comment): centre, edges, Hz. */
export function octaveBands(sampleRate: number): { centerHz: number; lowHz: number; highHz: number }[] {
  const nyquist = sampleRate / 2;
  const bands: { centerHz: number; lowHz: number; highHz: number }[] = [];
  for (let centerHz = LOWEST_BAND_HZ; centerHz < nyquist; centerHz *= 2) {
    bands.push({
      centerHz,
      lowHz: centerHz / Math.SQRT2,
      highHz: Math.min(centerHz * Math.SQRT2, nyquist),
    });
  }
  return bands;
}

/** The biquads of one band: Butterworth high-pass at lowHz, then low-pass at highHz unless that is Nyquist. */
export function bandFilter(
  band: { lowHz: number; highHz: number },
  sampleRate: number,
): BiquadCoefficients[] {
  const qs = butterworthQs(BAND_EDGE_ORDER);
  const sections = qs.map((q) =>
    biquadCoefficients({ type: "highpass", frequencyHz: band.lowHz, sampleRate, q }),
  );
  if (band.highHz < sampleRate / 2) {
    for (const q of qs) {
      sections.push(biquadCoefficients({ type: "lowpass", frequencyHz: band.highHz, sampleRate, q }));
    }
  }
  return sections;
}

/** ESR per octave band (see the module comment). */
export function bandErrors(
  output: readonly Float32Array[],
  target: readonly Float32Array[],
  sampleRate: number,
): BandError[] {
  const bands = octaveBands(sampleRate);
  const filters = bands.map((band) => bandFilter(band, sampleRate));
  const errorEnergy = new Float64Array(bands.length);
  const signalEnergy = new Float64Array(bands.length);
  const length = target[0]!.length;
  const error = new Float64Array(length);
  const signal = new Float64Array(length);
  const scratch = new Float64Array(length);
  for (let c = 0; c < target.length; c++) {
    const x = output[c]!;
    const y = target[c]!;
    for (let n = 0; n < length; n++) {
      signal[n] = y[n]!;
      error[n] = y[n]! - x[n]!;
    }
    filters.forEach((sections, b) => {
      errorEnergy[b]! += filteredEnergy(error, sections, scratch);
      signalEnergy[b]! += filteredEnergy(signal, sections, scratch);
    });
  }
  return bands.map((band, b) => ({ ...band, esr: errorToSignal(errorEnergy[b]!, signalEnergy[b]!) }));
}

function filteredEnergy(
  x: Float64Array,
  sections: readonly BiquadCoefficients[],
  scratch: Float64Array,
): number {
  scratch.set(x);
  for (const section of sections) biquadFilterInPlace(scratch, section);
  let energy = 0;
  for (let n = 0; n < scratch.length; n++) energy += scratch[n]! * scratch[n]!;
  return energy;
}

function loudnessOrNaN(audio: readonly Float32Array[], sampleRate: number): number {
  return sampleRate > K_WEIGHTING_MIN_RATE ? integratedLoudness(audio, sampleRate) : Number.NaN;
}

function loudnessDifference(output: number, target: number): number {
  if (output === Number.NEGATIVE_INFINITY && target === Number.NEGATIVE_INFINITY) return 0;
  return output - target;
}
