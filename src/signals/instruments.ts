import type { Rng } from "../core/rng.ts";
import { rampUp } from "./common.ts";
import { TAPER_END, TAPER_START, taperWeight } from "./oscillators.ts";

/**
 * Two small synthetic instruments for music-like test material: a plucked string (Karplus-Strong) and a
 * decaying, slightly inharmonic additive "piano". Both add one note into a buffer; the note sounds for
 * `seconds`, then is damped over a short release. `velocity` in [0, 1] makes louder notes brighter; the
 * note's level is set by `gain` (the caller maps velocity to dB).
 */

export interface NoteEvent {
  /** First sample of the note in the output buffer. */
  start: number;
  /** Sounding length before the release, seconds. */
  seconds: number;
  /** Pitch, Hz. */
  hz: number;
  /** Linear gain of the note. */
  gain: number;
  /** 0 (soft, dull) .. 1 (hard, bright). */
  velocity: number;
}

/** Damper release after the note's `seconds`, seconds. */
const PLUCK_RELEASE_SECONDS = 0.06;
const PIANO_RELEASE_SECONDS = 0.15;
/** Scales the piano so its notes are about as loud (RMS over the first half second) as the string's. */
const PIANO_LEVEL = 0.5;

/**
 * Karplus-Strong plucked string (Karplus & Strong, Computer Music Journal 7(2), 1983) with Jaffe & Smith's
 * extensions (CMJ 7(2), 1983): a first-order allpass in the loop tunes the fractional part of the period,
 * and a per-pass loss `rho` sets the decay time (T60, seconds to -60 dB) independently of pitch.
 * Loop: y[n] = allpass(rho * (y[n-N] + y[n-N-1]) / 2); total delay N + 1/2 + d = sampleRate / hz samples.
 * The excitation is one period of seeded noise, low-passed more for soft notes, with its mean removed (a DC
 * offset would otherwise ring in the loop) and scaled to unit RMS. Works up to hz = sampleRate / 3 (N >= 2).
 */
export function addPluck(out: Float64Array, note: NoteEvent, sampleRate: number, rng: Rng): void {
  const period = sampleRate / note.hz; // samples
  const delay = Math.max(2, Math.floor(period - 1)); // N
  const fraction = period - 0.5 - delay; // d in [0.5, 1.5): allpass delay at low frequencies
  const allpass = (1 - fraction) / (1 + fraction); // C
  const t60 = Math.min(4, Math.max(0.4, 3 * Math.sqrt(110 / note.hz))); // seconds; lower strings ring longer
  const rho = 10 ** (-3 / (note.hz * t60)); // loss per pass through the loop

  const line = new Float64Array(delay);
  const smoothing = 0.1 + 0.7 * (1 - note.velocity); // one-pole low-pass coefficient of the excitation
  let lowPassed = 0;
  let mean = 0;
  for (let i = 0; i < delay; i++) {
    lowPassed = (1 - smoothing) * rng.uniform(-1, 1) + smoothing * lowPassed;
    line[i] = lowPassed;
    mean += lowPassed / delay;
  }
  let sumSquares = 0;
  for (let i = 0; i < delay; i++) {
    line[i]! -= mean;
    sumSquares += line[i]! * line[i]!;
  }
  // unit-RMS excitation: velocity changes the brightness here, the level only through note.gain
  const scale = sumSquares > 0 ? Math.sqrt(delay / sumSquares) : 0;
  for (let i = 0; i < delay; i++) line[i]! *= scale;

  const sounding = Math.round(note.seconds * sampleRate);
  const release = Math.round(PLUCK_RELEASE_SECONDS * sampleRate);
  const end = Math.min(out.length, note.start + sounding + release);
  let index = 0;
  let previous = 0; // y[n-N-1]
  let allpassIn = 0;
  let allpassOut = 0;
  for (let n = note.start; n < end; n++) {
    const delayed = line[index]!; // y[n-N]
    const averaged = 0.5 * rho * (delayed + previous);
    previous = delayed;
    allpassOut = allpass * averaged + allpassIn - allpass * allpassOut;
    allpassIn = averaged;
    line[index] = allpassOut;
    index = index + 1 === delay ? 0 : index + 1;
    const intoRelease = n - note.start - sounding;
    const damper = intoRelease <= 0 ? 1 : rampUp(1 - intoRelease / release);
    out[n]! += note.gain * damper * delayed;
  }
}

/**
 * A piano-like note by additive synthesis: partials k = 1..24 at k f sqrt(1 + B k^2) (stiff-string
 * inharmonicity, Fletcher, JASA 36, 1964; B = 3e-4), amplitudes 1/k with a velocity-dependent roll-off,
 * each decaying exponentially with time constant tau_1 / (1 + 0.5 (k - 1)) (higher partials die faster;
 * tau_1 from 0.6 s for high notes to 6 s for low ones), a 4 ms attack and a damper release. Partials are
 * band-limited with the oscillators' taper (full level to 0.8 Nyquist, gone at 0.95). Each partial is a
 * phasor rotated once per sample (no trigonometry per sample); starting phases are seeded.
 */
export function addPiano(out: Float64Array, note: NoteEvent, sampleRate: number, rng: Rng): void {
  const nyquist = sampleRate / 2;
  const inharmonicity = 3e-4;
  const tau1 = Math.min(6, Math.max(0.6, 2.5 * (220 / note.hz) ** 0.6)); // seconds
  const rollOff = 0.45 - 0.3 * note.velocity; // per partial, nepers of amplitude
  const attack = Math.max(1, Math.round(0.004 * sampleRate));
  const sounding = Math.round(note.seconds * sampleRate);
  const release = Math.round(PIANO_RELEASE_SECONDS * sampleRate);
  const end = Math.min(out.length, note.start + sounding + release);
  for (let k = 1; k <= 24; k++) {
    const hz = k * note.hz * Math.sqrt(1 + inharmonicity * k * k);
    if (hz >= TAPER_END * nyquist) break;
    const taper =
      k === 1 ? 1 : taperWeight((hz - TAPER_START * nyquist) / ((TAPER_END - TAPER_START) * nyquist));
    const level = (PIANO_LEVEL * note.gain * taper * Math.exp(-rollOff * (k - 1))) / k;
    const decay = Math.exp(-1 / ((tau1 / (1 + 0.5 * (k - 1))) * sampleRate)); // per sample
    const step = (2 * Math.PI * hz) / sampleRate;
    const stepRe = Math.cos(step);
    const stepIm = Math.sin(step);
    const phase = rng.uniform(0, 2 * Math.PI);
    let re = Math.cos(phase);
    let im = Math.sin(phase);
    let envelope = level;
    for (let n = note.start; n < end; n++) {
      const i = n - note.start;
      const shape = i < attack ? rampUp(i / attack) : i < sounding ? 1 : rampUp(1 - (i - sounding) / release);
      out[n]! += envelope * shape * im;
      const nextRe = re * stepRe - im * stepIm;
      im = re * stepIm + im * stepRe;
      re = nextRe;
      envelope *= decay;
    }
  }
}
