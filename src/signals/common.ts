import { z } from "zod";
import { type Audio, makeAudio } from "../audio/audio.ts";

/**
 * Pieces every material kind shares: the six common options (sampleRate, seconds, amplitude, channels,
 * stereo, seed), turning "render channel c" into a peak-normalised Audio, fades, and unit conversions.
 */

export const waveforms = ["sine", "triangle", "square", "sawtooth"] as const;
export type Waveform = (typeof waveforms)[number];

export const stereoModes = ["identical", "independent"] as const;
export type StereoMode = (typeof stereoModes)[number];

/** Longest material we render in one call: 1 hour (a 48 kHz stereo hour is ~1.4 GB of float32 already). */
const MAX_SECONDS = 3600;

/** The texts that differ per kind in the common options' help. */
export interface CommonNotes {
  /** What `stereo: "independent"` does for this kind (how channel 2 is made different). */
  independent: string;
  /** What `seed` drives for this kind, or why it is unused. */
  seed: string;
  /** What `amplitude` means, when it is not simply the peak. */
  amplitude?: string;
}

/**
 * The common option fields, to spread into each kind's `z.strictObject({...})`. Channel 0 is always the
 * mono signal; `identical` copies it, `independent` renders channel 1 differently (per kind, see `notes`).
 * `amplitude` is each channel's peak.
 */
export function commonOptions(defaultSeconds: number, notes: CommonNotes) {
  return {
    sampleRate: z.number().int().min(8000).max(384000).default(48000).describe("sample rate in Hz"),
    seconds: z.number().positive().max(MAX_SECONDS).default(defaultSeconds).describe("length in seconds"),
    amplitude: z
      .number()
      .positive()
      .max(1)
      .default(0.5)
      .describe(notes.amplitude ?? "peak level, linear full scale (0 < amplitude <= 1)"),
    channels: z.number().int().min(1).max(2).default(1).describe("1 (mono) or 2 (stereo)"),
    stereo: z
      .enum(stereoModes)
      .default("identical")
      .describe(`with 2 channels: identical copies, or independent (${notes.independent})`),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(1)
      .describe(`random seed, integer (${notes.seed})`),
  };
}

/** The parsed common options, as every renderer receives them. */
export interface CommonOptions {
  sampleRate: number;
  seconds: number;
  amplitude: number;
  channels: number;
  stereo: StereoMode;
  seed: number;
}

/** Number of sample frames for `seconds` at `sampleRate` (rounded to the nearest sample). */
export function framesFor(seconds: number, sampleRate: number): number {
  return Math.round(seconds * sampleRate);
}

/** Issue-reporting context of a zod `superRefine`, narrowed to what our cross-field checks use. */
export interface RefineContext {
  addIssue(issue: { code: "custom"; path: (string | number)[]; message: string; input?: unknown }): void;
}

/** Cross-field checks shared by all kinds: the length must come to at least one sample. */
export function checkCommon(options: CommonOptions, ctx: RefineContext): void {
  if (framesFor(options.seconds, options.sampleRate) < 1) {
    ctx.addIssue({
      code: "custom",
      path: ["seconds"],
      message: `expected at least one sample (>= ${(0.5 / options.sampleRate).toExponential(2)} s at sampleRate ${options.sampleRate})`,
    });
  }
}

/** Adds an issue on `field` unless 0 < hz < Nyquist. */
export function checkBelowNyquist(field: string, hz: number, sampleRate: number, ctx: RefineContext): void {
  if (!(hz < sampleRate / 2)) {
    ctx.addIssue({
      code: "custom",
      path: [field],
      message: `expected a frequency below Nyquist (${sampleRate / 2} Hz at sampleRate ${sampleRate})`,
    });
  }
}

/**
 * Renders every channel, scales each so its largest |sample| equals `amplitude`, and returns float32 Audio.
 * `render(c)` returns channel c in any scale; with `stereo: "identical"` it is called once and channel 1
 * is a copy of channel 0. Normalising per channel keeps channel 0 sample-for-sample equal to the mono
 * signal in every stereo mode.
 */
export function finishChannels(options: CommonOptions, render: (channel: number) => Float64Array): Audio {
  const channels: Float32Array[] = [];
  for (let c = 0; c < options.channels; c++) {
    if (c > 0 && options.stereo === "identical") {
      channels.push(channels[0]!.slice());
    } else {
      const rendered = render(c);
      channels.push(toFloat32(rendered, peakGain(rendered, options.amplitude)));
    }
  }
  return makeAudio(options.sampleRate, channels);
}

/** The gain that brings the peak |sample| of `channel` to `amplitude` (1 for an all-zero channel). */
export function peakGain(channel: Float64Array, amplitude: number): number {
  let max = 0;
  for (let i = 0; i < channel.length; i++) {
    const value = Math.abs(channel[i]!);
    if (value > max) max = value;
  }
  return max > 0 ? amplitude / max : 1;
}

/** `gain * source` as a new Float32Array. */
export function toFloat32(source: Float64Array, gain: number): Float32Array {
  const out = new Float32Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = source[i]! * gain;
  return out;
}

/**
 * Multiplies the first `fadeIn` and last `fadeOut` samples by a half raised-cosine ramp (0 -> 1 and 1 -> 0),
 * so material starts and stops without a click. Ramps longer than the buffer are clipped to it.
 */
export function applyFades(buffer: Float64Array, fadeIn: number, fadeOut: number): void {
  const length = buffer.length;
  const inLength = Math.min(fadeIn, length);
  for (let n = 0; n < inLength; n++) buffer[n]! *= rampUp((n + 0.5) / inLength);
  const outLength = Math.min(fadeOut, length);
  for (let n = 0; n < outLength; n++) buffer[length - 1 - n]! *= rampUp((n + 0.5) / outLength);
}

/** Half raised-cosine: 0 at x = 0, 1 at x = 1, zero slope at both ends. */
export function rampUp(x: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * x);
}

/** MIDI note number -> Hz (equal temperament, note 69 = A4 = 440 Hz). */
export function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** Decibels -> linear gain (-6.02 dB -> 0.5). */
export function dbToGain(db: number): number {
  return 10 ** (db / 20);
}
