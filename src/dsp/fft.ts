import FFT from "fft.js";

/**
 * Real-input FFT of a fixed power-of-two size over float64 buffers (fft.js, radix-4). Spectra are
 * interleaved complex [re0, im0, re1, im1, ...] with `size / 2 + 1` bins (0 Hz .. Nyquist).
 * Buffers are allocated once per instance, so repeated transforms allocate nothing.
 */
export class RealFft {
  readonly size: number;
  private readonly fft: FFT;
  private readonly full: Float64Array; // complex, size bins
  private readonly work: Float64Array; // complex, size bins

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`FFT size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    this.fft = new FFT(size);
    this.full = new Float64Array(2 * size);
    this.work = new Float64Array(2 * size);
  }

  /** spectrum[2k], spectrum[2k+1] = Re, Im of bin k, k = 0..size/2. `signal` is [size] real samples. */
  forward(spectrum: Float64Array, signal: ArrayLike<number>): void {
    this.fft.realTransform(this.full, signal);
    // Plain loops rather than set(subarray(...)): a subarray view per call is garbage in training loops.
    for (let i = 0; i < this.size + 2; i++) spectrum[i] = this.full[i]!;
  }

  /** Inverse of `forward`: signal[n] = (1 / size) sum_k X[k] e^{2 pi i k n / size} for a Hermitian spectrum. */
  inverse(signal: Float64Array, spectrum: Float64Array): void {
    const half = this.size / 2;
    for (let i = 0; i < this.size + 2; i++) this.full[i] = spectrum[i]!;
    for (let k = 1; k < half; k++) {
      // X[size - k] = conj(X[k])
      this.full[2 * (this.size - k)] = spectrum[2 * k]!;
      this.full[2 * (this.size - k) + 1] = -spectrum[2 * k + 1]!;
    }
    this.fft.inverseTransform(this.work, this.full); // fft.js scales by 1/size
    for (let n = 0; n < this.size; n++) signal[n] = this.work[2 * n]!;
  }
}

/** Smallest power of two >= n. */
export function nextPowerOfTwo(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/** Periodic Hann window of `length` samples (the STFT convention: sums to a constant at hop length/2). */
export function hannWindow(length: number): Float64Array {
  const window = new Float64Array(length);
  for (let n = 0; n < length; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
  return window;
}

/**
 * Averaged one-sided power spectrum (Welch's method: Hann-windowed frames of `fftSize`, 50% overlap), one
 * value per bin 0..fftSize/2, scaled so the bins sum to the signal's mean square (a sine of amplitude A
 * gives A^2 / 2 spread over a few bins around its frequency). Bin k is k * sampleRate / fftSize Hz.
 */
export function powerSpectrum(signal: ArrayLike<number>, fftSize: number): Float64Array {
  const fft = new RealFft(fftSize);
  const window = hannWindow(fftSize);
  const frame = new Float64Array(fftSize);
  const spectrum = new Float64Array(fftSize + 2);
  const power = new Float64Array(fftSize / 2 + 1);
  const hop = fftSize / 2;
  let windowPower = 0;
  for (let n = 0; n < fftSize; n++) windowPower += window[n]! * window[n]!;
  let frames = 0;
  for (let start = 0; start + fftSize <= signal.length; start += hop) {
    for (let n = 0; n < fftSize; n++) frame[n] = signal[start + n]! * window[n]!;
    fft.forward(spectrum, frame);
    for (let k = 0; k <= fftSize / 2; k++) {
      power[k]! += spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2;
    }
    frames++;
  }
  if (frames === 0)
    throw new RangeError(`signal of ${signal.length} samples is shorter than one ${fftSize}-point frame`);
  for (let k = 0; k <= fftSize / 2; k++) {
    const oneSided = k === 0 || k === fftSize / 2 ? 1 : 2;
    power[k]! *= oneSided / (frames * fftSize * windowPower);
  }
  return power;
}
