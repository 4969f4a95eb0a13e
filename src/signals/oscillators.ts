import type { Waveform } from "./common.ts";

/**
 * Band-limited oscillators by additive synthesis that follow an arbitrary instantaneous phase, so one
 * kernel serves held tones, chords, linear and exponential sweeps and chirps.
 *
 * Fourier series used (each is 0 at phase 0 and rising there; unit amplitude for the ideal waveform):
 *   sine      sin(phi)
 *   sawtooth  (2/pi)   sum_{k>=1}   (-1)^(k+1) sin(k phi) / k       ramp phi/pi on (-pi, pi), jump at phi = pi
 *   square    (4/pi)   sum_{k odd}  sin(k phi) / k                  +1 on (0, pi), -1 on (pi, 2 pi)
 *   triangle  (8/pi^2) sum_{k odd}  (-1)^((k-1)/2) sin(k phi) / k^2 peaks +-1 at phi = pi/2, 3 pi/2
 *
 * Band limit: harmonic k >= 2 of instantaneous frequency f has weight 1 while k f <= 0.8 Nyquist, then
 * falls along a smoothstep to 0 at k f = 0.95 Nyquist and is left out above. A sweeping harmonic therefore
 * fades out over a quarter octave instead of switching off (no click), and nothing ever reaches Nyquist,
 * so nothing aliases. The fundamental (k = 1) is never tapered: callers keep it below Nyquist.
 *
 * Peak (Gibbs): a truncated square or sawtooth series overshoots each jump by about 9% of the jump, so the
 * raw peak is about 1.18 while the flat parts sit at 1; the taper (like a Lanczos sigma factor on the top
 * harmonics) lowers that a little. Triangle and sine do not overshoot. Generators normalise the rendered
 * peak to `amplitude`, so the flat parts of a band-limited square or saw sit near 0.85 x amplitude.
 */

/** Harmonics of f are at full level up to this fraction of Nyquist... */
export const TAPER_START = 0.8;
/** ...and fade to silence at this fraction of Nyquist. */
export const TAPER_END = 0.95;

/**
 * Adds `gain * waveform(phase[n])`, band-limited, into out[n] for n in [0, out.length).
 * phase: [out.length] radians (unwrapped is fine: only cos/sin of it are taken);
 * frequencyHz: [out.length] instantaneous frequency in Hz, > 0 and < Nyquist.
 *
 * Speed: per sample one Math.cos/Math.sin for z = e^{i phi}; harmonic k comes from z^k by complex rotation
 * (z^{k+step} = z^k * z^step), one complex multiply per harmonic. Rounding grows like k * 1e-16, so even the
 * ~1100 harmonics of a 20 Hz saw at 48 kHz stay accurate to ~1e-13.
 */
export function addBandLimited(
  out: Float64Array,
  phase: Float64Array,
  frequencyHz: Float64Array,
  waveform: Waveform,
  sampleRate: number,
  gain: number,
): void {
  const nyquist = sampleRate / 2;
  const taperStartHz = TAPER_START * nyquist;
  const taperEndHz = TAPER_END * nyquist;
  const taperScale = 1 / (taperEndHz - taperStartHz);
  const length = out.length;
  if (waveform === "sine") {
    for (let n = 0; n < length; n++) out[n]! += gain * Math.sin(phase[n]!);
    return;
  }
  let lowestHz = Number.POSITIVE_INFINITY;
  for (let n = 0; n < length; n++) lowestHz = Math.min(lowestHz, frequencyHz[n]!);
  const coefficients = harmonicCoefficients(waveform, Math.max(1, Math.floor(taperEndHz / lowestHz)), gain);
  const step = waveform === "sawtooth" ? 1 : 2; // square and triangle have odd harmonics only
  for (let n = 0; n < length; n++) {
    const hz = frequencyHz[n]!;
    const c = Math.cos(phase[n]!);
    const s = Math.sin(phase[n]!);
    // rotation by z^step
    const stepRe = step === 1 ? c : c * c - s * s;
    const stepIm = step === 1 ? s : 2 * c * s;
    let re = c; // z^k, k = 1
    let im = s;
    let sum = coefficients[1]! * im;
    let k = 1 + step;
    const lastFull = Math.floor(taperStartHz / hz); // highest k at full weight
    const last = Math.min(Math.ceil(taperEndHz / hz) - 1, coefficients.length - 1); // highest k with weight > 0
    for (; k <= lastFull; k += step) {
      const nextRe = re * stepRe - im * stepIm;
      im = re * stepIm + im * stepRe;
      re = nextRe;
      sum += coefficients[k]! * im;
    }
    for (; k <= last; k += step) {
      const nextRe = re * stepRe - im * stepIm;
      im = re * stepIm + im * stepRe;
      re = nextRe;
      sum += coefficients[k]! * taperWeight((k * hz - taperStartHz) * taperScale) * im;
    }
    out[n]! += sum;
  }
}

/**
 * The obviously-correct twin of `addBandLimited`: one Math.sin per harmonic, same series and taper.
 * Slow (use for tests only).
 */
export function addBandLimitedReference(
  out: Float64Array,
  phase: Float64Array,
  frequencyHz: Float64Array,
  waveform: Waveform,
  sampleRate: number,
  gain: number,
): void {
  const nyquist = sampleRate / 2;
  for (let n = 0; n < out.length; n++) {
    const hz = frequencyHz[n]!;
    let sum = 0;
    for (let k = 1; k === 1 || k * hz < TAPER_END * nyquist; k++) {
      const weight =
        k === 1 ? 1 : taperWeight((k * hz - TAPER_START * nyquist) / ((TAPER_END - TAPER_START) * nyquist));
      sum += harmonicAmplitude(waveform, k) * weight * Math.sin(k * phase[n]!);
    }
    out[n]! += gain * sum;
  }
}

/** 1 for x <= 0, 0 for x >= 1, smoothstep 1 - x^2 (3 - 2x) between (continuous slope at both ends). */
export function taperWeight(x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  return 1 - x * x * (3 - 2 * x);
}

/** Fourier sine coefficient of harmonic k (see the table at the top of this file). */
export function harmonicAmplitude(waveform: Waveform, k: number): number {
  switch (waveform) {
    case "sine":
      return k === 1 ? 1 : 0;
    case "sawtooth":
      return ((k % 2 === 1 ? 1 : -1) * 2) / (Math.PI * k);
    case "square":
      return k % 2 === 1 ? 4 / (Math.PI * k) : 0;
    case "triangle":
      return k % 2 === 1 ? ((k % 4 === 1 ? 1 : -1) * 8) / (Math.PI * Math.PI * k * k) : 0;
  }
}

/** gain * harmonicAmplitude(waveform, k) for k = 0..highest (index 0 unused). */
function harmonicCoefficients(waveform: Waveform, highest: number, gain: number): Float64Array {
  const coefficients = new Float64Array(highest + 1);
  for (let k = 1; k <= highest; k++) coefficients[k] = gain * harmonicAmplitude(waveform, k);
  return coefficients;
}

export const sweepModes = ["linear", "exponential"] as const;
export type SweepMode = (typeof sweepModes)[number];

/**
 * Fills phase[n] (radians) and frequencyHz[n] for a sweep from startHz at n = 0 to endHz at n = length - 1
 * (up or down; equal ends give a steady tone), t = n / sampleRate, T = (length - 1) / sampleRate:
 *   linear       f(t) = f0 + (f1 - f0) t / T          phi(t) = 2 pi (f0 t + (f1 - f0) t^2 / (2 T))
 *   exponential  f(t) = f0 (f1 / f0)^(t / T)          phi(t) = 2 pi f0 T (exp(t L / T) - 1) / L, L = ln(f1 / f0)
 * (the exponential law is Farina's, AES 2000: equal time per octave). The phase is evaluated in closed form
 * in float64, not accumulated, so it does not drift. `startPhase` (radians) is added to every phase.
 */
export function sweepPhase(
  phase: Float64Array,
  frequencyHz: Float64Array,
  startHz: number,
  endHz: number,
  mode: SweepMode,
  sampleRate: number,
  startPhase = 0,
): void {
  const length = phase.length;
  const span = Math.max(length - 1, 1) / sampleRate; // T, seconds
  const logRatio = Math.log(endHz / startHz);
  const exponential = mode === "exponential" && Math.abs(logRatio) > 1e-12;
  for (let n = 0; n < length; n++) {
    const t = n / sampleRate;
    if (exponential) {
      const growth = Math.exp((t * logRatio) / span);
      frequencyHz[n] = startHz * growth;
      phase[n] = startPhase + (2 * Math.PI * startHz * span * (growth - 1)) / logRatio;
    } else {
      const slope = (endHz - startHz) / span; // Hz per second
      frequencyHz[n] = startHz + slope * t;
      phase[n] = startPhase + 2 * Math.PI * (startHz * t + 0.5 * slope * t * t);
    }
  }
}

/**
 * A steady band-limited tone of `frequencyHz` added into `out` (gain `gain`, starting phase `startPhase`
 * radians): the sweep kernel with equal ends.
 */
export function addTone(
  out: Float64Array,
  frequencyHz: number,
  waveform: Waveform,
  sampleRate: number,
  gain: number,
  startPhase: number,
): void {
  const phase = new Float64Array(out.length);
  const frequency = new Float64Array(out.length);
  sweepPhase(phase, frequency, frequencyHz, frequencyHz, "linear", sampleRate, startPhase);
  addBandLimited(out, phase, frequency, waveform, sampleRate, gain);
}
