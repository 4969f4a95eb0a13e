import { hannWindow, RealFft } from "../../dsp/fft.ts";

/** One STFT resolution: FFT size (power of two >= 4), hop and window length in samples. */
export interface StftResolution {
  fftSize: number;
  hopSize: number;
  windowLength: number;
}

/** auraloss `MultiResolutionSTFTLoss` defaults (as used by NAM's trainer). */
export const DEFAULT_RESOLUTIONS: readonly StftResolution[] = [
  { fftSize: 1024, hopSize: 120, windowLength: 600 },
  { fftSize: 2048, hopSize: 240, windowLength: 1200 },
  { fftSize: 512, hopSize: 50, windowLength: 240 },
];

/** Frames of a centred STFT of `length` samples: 1 + floor(length / hop) (torch.stft, center=True). */
export function stftFrameCount(length: number, hopSize: number): number {
  return 1 + Math.floor(length / hopSize);
}

/** Row index read by padded position p of a centred frame grid: reflect padding, edge not repeated. */
function reflect(index: number, length: number): number {
  if (index < 0) return -index;
  if (index >= length) return 2 * (length - 1) - index;
  return index;
}

interface Resolution extends StftResolution {
  fft: RealFft;
  /** [fftSize]: periodic Hann of windowLength, zero-padded on both sides (left (N - W) / 2, floored). */
  window: Float64Array;
  /** First and one-past-last non-zero window index. */
  windowStart: number;
  windowEnd: number;
  /** [rows, frames, fftSize + 2]: the prediction's spectra from the last forward. Grows, never shrinks. */
  spectra: Float64Array;
  /** [rows, frames, fftSize / 2 + 1]: the target's magnitudes from the last forward. */
  targetMagnitudes: Float64Array;
  frames: number;
  /** From the last forward: sum (Y - X)^2, sum Y^2 and the number of magnitudes, over all rows and frames. */
  squaredError: number;
  squaredTarget: number;
  count: number;
}

/**
 * Multi-resolution STFT loss (Yamamoto, Song & Kim, "Parallel WaveGAN", ICASSP 2020, arXiv:1910.11480;
 * the terms from Arik et al. 2018, arXiv:1808.06719), computed as auraloss `MultiResolutionSTFTLoss` does:
 *   X = |STFT(x)|, Y = |STFT(y)| with magnitude = sqrt(max(re^2 + im^2, eps)), per resolution
 *   L_r = wSc ||Y - X||_F / ||Y||_F + wMag mean |log Y - log X|,
 * the norms and the mean taken over every row, frame and bin of the batch together; L = mean_r L_r.
 *
 * Frames: centred, as torch.stft(center=True, pad_mode="reflect") in auraloss: each row segment of n
 * samples is reflect-padded by N / 2 on both sides and cut into 1 + floor(n / H) frames starting every H
 * samples; each frame is multiplied by a periodic Hann window of W samples placed in the middle of the
 * N-point frame (torch's window padding), then real-FFT'd; no normalisation. A row segment shorter than an
 * FFT size is rejected by the caller (torch only needs n > N / 2, but such a resolution sees less than one
 * window of signal).
 *
 * Gradient. With re_k = sum_n f[n] cos(2 pi k n / N), im_k = -sum_n f[n] sin(2 pi k n / N) (f = windowed
 * frame, k = 0..N/2) and G_k = dL/d re_k + i dL/d im_k,
 *   dL/df[n] = sum_{k=0}^{N/2} (Re G_k cos(2 pi k n / N) - Im G_k sin(2 pi k n / N)) = Re sum_k G_k e^{+2 pi i k n / N}.
 * RealFft.inverse(Z) computes (1/N) sum over all N bins of the Hermitian extension Z_{N-k} = conj(Z_k), i.e.
 * (1/N) (Re Z_0 + Re Z_{N/2} (-1)^n + 2 Re sum_{k=1}^{N/2-1} Z_k e^{2 pi i k n / N}); so with Z_0 = N G_0,
 * Z_{N/2} = N G_{N/2} and Z_k = (N / 2) G_k for interior bins it returns dL/df exactly (the imaginary parts
 * of the DC and Nyquist bins multiply sin(0) and sin(pi n) and drop out). Per bin
 *   dL/dX = (wSc / R) (X - Y) / (||Y - X||_F ||Y||_F) + (wMag / R) sign(X - Y) / (X count),
 *   G_k = dL/dX * (re_k + i im_k) / X   (0 where the magnitude is clamped at sqrt(eps)),
 * then dL/dframe is multiplied by the window, overlap-added into the padded row and the padding folded back
 * onto the samples it reflected. ||Y - X|| = 0 gives the spectral convergence term a zero (sub)gradient.
 *
 * Forward keeps the prediction's spectra and the target's magnitudes for backward: about
 * 1.5 * rows * sum_r frames_r * N_r float64 values (43 MB for [16, 1, 8192] at the default resolutions).
 */
export class MultiResolutionStft {
  private readonly resolutions: Resolution[];
  private readonly scWeight: number;
  private readonly magWeight: number;
  private readonly eps: number;
  /** [N]: windowed frame (zero outside the window, never written there). */
  private readonly frames: Float64Array[];
  /** [N + 2]: one spectrum. */
  private readonly spectrum: Float64Array;
  /** [N]: inverse FFT output. */
  private readonly frameGradient: Float64Array;
  /** [n + N_max]: padded prediction, padded target, padded gradient of one row. Grow, never shrink. */
  private paddedX = new Float64Array(0);
  private paddedY = new Float64Array(0);
  private paddedGradient = new Float64Array(0);
  readonly maxFftSize: number;

  constructor(resolutions: readonly StftResolution[], scWeight: number, magWeight: number, eps: number) {
    this.scWeight = scWeight;
    this.magWeight = magWeight;
    this.eps = eps;
    this.maxFftSize = Math.max(...resolutions.map((r) => r.fftSize));
    this.resolutions = resolutions.map((r) => {
      const window = new Float64Array(r.fftSize);
      const windowStart = Math.floor((r.fftSize - r.windowLength) / 2);
      window.set(hannWindow(r.windowLength), windowStart);
      return {
        ...r,
        fft: new RealFft(r.fftSize),
        window,
        windowStart,
        windowEnd: windowStart + r.windowLength,
        spectra: new Float64Array(0),
        targetMagnitudes: new Float64Array(0),
        frames: 0,
        squaredError: 0,
        squaredTarget: 0,
        count: 0,
      };
    });
    this.frames = this.resolutions.map((r) => new Float64Array(r.fftSize));
    this.spectrum = new Float64Array(this.maxFftSize + 2);
    this.frameGradient = new Float64Array(this.maxFftSize);
  }

  /** The loss of prediction x against target y, both [rows, n] (n >= every FFT size). */
  forward(x: Float64Array, y: Float64Array, rows: number, n: number): number {
    const padded = n + this.maxFftSize;
    if (this.paddedX.length < padded) {
      this.paddedX = new Float64Array(padded);
      this.paddedY = new Float64Array(padded);
      this.paddedGradient = new Float64Array(padded);
    }
    const eps = this.eps;
    const spectrum = this.spectrum;
    let total = 0;
    for (let index = 0; index < this.resolutions.length; index++) {
      const res = this.resolutions[index]!;
      const frame = this.frames[index]!;
      const { fftSize, hopSize, window, windowStart, windowEnd, fft } = res;
      const bins = fftSize / 2 + 1;
      const frames = stftFrameCount(n, hopSize);
      res.frames = frames;
      if (res.spectra.length < rows * frames * (fftSize + 2)) {
        res.spectra = new Float64Array(rows * frames * (fftSize + 2));
        res.targetMagnitudes = new Float64Array(rows * frames * bins);
      }
      const spectra = res.spectra;
      const magnitudes = res.targetMagnitudes;
      const half = fftSize / 2;
      let squaredError = 0;
      let squaredTarget = 0;
      let logError = 0;
      for (let r = 0; r < rows; r++) {
        const rowStart = r * n;
        for (let p = 0; p < n + fftSize; p++) {
          const t = rowStart + reflect(p - half, n);
          this.paddedX[p] = x[t]!;
          this.paddedY[p] = y[t]!;
        }
        for (let f = 0; f < frames; f++) {
          const start = f * hopSize;
          const slot = r * frames + f;
          const spectrumOffset = slot * (fftSize + 2);
          const magnitudeOffset = slot * bins;
          for (let i = windowStart; i < windowEnd; i++) frame[i] = this.paddedX[start + i]! * window[i]!;
          fft.forward(spectrum, frame);
          for (let i = 0; i < fftSize + 2; i++) spectra[spectrumOffset + i] = spectrum[i]!;
          for (let i = windowStart; i < windowEnd; i++) frame[i] = this.paddedY[start + i]! * window[i]!;
          fft.forward(spectrum, frame);
          for (let k = 0; k < bins; k++) {
            const tr = spectrum[2 * k]!;
            const ti = spectrum[2 * k + 1]!;
            const target = Math.sqrt(Math.max(tr * tr + ti * ti, eps));
            const pr = spectra[spectrumOffset + 2 * k]!;
            const pi = spectra[spectrumOffset + 2 * k + 1]!;
            const predicted = Math.sqrt(Math.max(pr * pr + pi * pi, eps));
            magnitudes[magnitudeOffset + k] = target;
            const d = target - predicted;
            squaredError += d * d;
            squaredTarget += target * target;
            logError += Math.abs(Math.log(target / predicted));
          }
        }
      }
      const count = rows * frames * bins;
      res.squaredError = squaredError;
      res.squaredTarget = squaredTarget;
      res.count = count;
      total += this.scWeight * Math.sqrt(squaredError / squaredTarget) + (this.magWeight * logError) / count;
    }
    return total / this.resolutions.length;
  }

  /** gx [rows, n] += d loss / d x for the last forward call (same rows and n). */
  backward(gx: Float64Array, rows: number, n: number): void {
    const eps = this.eps;
    const spectrum = this.spectrum;
    const frameGradient = this.frameGradient;
    const padded = this.paddedGradient;
    const count = this.resolutions.length;
    for (let index = 0; index < count; index++) {
      const res = this.resolutions[index]!;
      const { fftSize, hopSize, window, windowStart, windowEnd, fft, frames, spectra } = res;
      const magnitudes = res.targetMagnitudes;
      const bins = fftSize / 2 + 1;
      const half = fftSize / 2;
      const errorNorm = Math.sqrt(res.squaredError);
      const scScale = errorNorm > 0 ? this.scWeight / (count * errorNorm * Math.sqrt(res.squaredTarget)) : 0;
      const magScale = this.magWeight / (count * res.count);
      for (let r = 0; r < rows; r++) {
        padded.fill(0, 0, n + fftSize);
        for (let f = 0; f < frames; f++) {
          const slot = r * frames + f;
          const spectrumOffset = slot * (fftSize + 2);
          const magnitudeOffset = slot * bins;
          for (let k = 0; k < bins; k++) {
            const re = spectra[spectrumOffset + 2 * k]!;
            const im = spectra[spectrumOffset + 2 * k + 1]!;
            const power = re * re + im * im;
            if (power > eps) {
              const predicted = Math.sqrt(power);
              const target = magnitudes[magnitudeOffset + k]!;
              const dMagnitude =
                scScale * (predicted - target) + (magScale * Math.sign(predicted - target)) / predicted;
              // d magnitude / d (re, im) = (re, im) / magnitude; then the inverse-FFT bin scaling (N or N / 2)
              const s = (dMagnitude / predicted) * (k === 0 || k === half ? fftSize : half);
              spectrum[2 * k] = s * re;
              spectrum[2 * k + 1] = s * im;
            } else {
              spectrum[2 * k] = 0;
              spectrum[2 * k + 1] = 0;
            }
          }
          fft.inverse(frameGradient, spectrum);
          const start = f * hopSize;
          for (let i = windowStart; i < windowEnd; i++) padded[start + i]! += frameGradient[i]! * window[i]!;
        }
        const rowStart = r * n;
        for (let p = 0; p < n + fftSize; p++) gx[rowStart + reflect(p - half, n)]! += padded[p]!;
      }
    }
  }
}
