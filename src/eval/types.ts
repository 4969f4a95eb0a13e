/**
 * The evaluation contract shared by the metrics, the report and the study runner. Audio is one Float32Array
 * per channel; every score compares an output with the target over the same samples.
 */

/** Error in one octave band: the ESR of the band-passed output against the band-passed target. */
export interface BandError {
  centerHz: number;
  lowHz: number;
  highHz: number;
  esr: number;
}

export interface Metrics {
  /** Mean squared error (the study's table reports MSE, RMSE and the standard deviation of the error). */
  mse: number;
  rmse: number;
  /** Standard deviation of (target - output). */
  errorStd: number;
  /** Error-to-signal ratio, sum (y - yhat)^2 / sum y^2 (Wright & Välimäki). */
  esr: number;
  /** ESR after first-order high-pass pre-emphasis y[n] - 0.85 y[n-1] of both signals. */
  esrPreEmphasis: number;
  /** 10 log10(signal power / error power), dB. */
  snrDb: number;
  /** Multi-resolution STFT distance (spectral convergence + log magnitude, auraloss defaults). */
  mrstft: number;
  /**
   * The FFT sizes `mrstft` used: auraloss's [1024, 2048, 512], or those scaled down for audio shorter than
   * 2048 samples; empty (and `mrstft` NaN) below 16 samples. See src/eval/metrics.ts.
   */
  mrstftFftSizes?: number[];
  /** Log-spectral distance, dB (RMS over bins of the difference of the log power spectra, mean over frames). */
  logSpectralDistanceDb: number;
  /** Loudness of output minus loudness of target (ITU-R BS.1770 integrated loudness), dB. */
  loudnessDifferenceDb: number;
  /** Integrated loudness of the output and of the target, LUFS (ITU-R BS.1770-4; see src/eval/loudness.ts). */
  outputLoudnessLufs?: number;
  targetLoudnessLufs?: number;
  /** ESR per octave band (31.25 Hz ... up to Nyquist). */
  bands: BandError[];
}

/** Every score of a model, read against "doing nothing": the same scores for the input passed through. */
export interface Comparison {
  sampleRate: number;
  /** Samples per channel that were scored. */
  frames: number;
  model: Metrics;
  identity: Metrics;
}
