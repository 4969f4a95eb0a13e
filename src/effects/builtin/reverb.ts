import { z } from "zod";
import { deriveSeed, Rng } from "../../core/rng.ts";
import { biquadCoefficients, biquadFilter } from "../../dsp/biquad.ts";
import { nextPowerOfTwo, RealFft } from "../../dsp/fft.ts";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels, mixSchema, requireBelowNyquist } from "./common.ts";

export const roomPresets = ["small", "medium", "hall"] as const;
export type RoomPreset = (typeof roomPresets)[number];

const roomField = z
  .enum(roomPresets)
  .default("medium")
  .describe("preset small, medium or hall: sets the fields below that are left out");

// ---------------------------------------------------------------------------------------------------------
// Freeverb

/**
 * Jezar at Dreampoint's Freeverb (public domain, 2000; tuning.h): delay lengths in samples at 44.1 kHz, the
 * right channel's combs and allpasses are `STEREO_SPREAD` longer. Here they are scaled to the audio's rate
 * (rounded), so the reverb's times in seconds do not change with the rate.
 */
const FREEVERB = {
  rateHz: 44100,
  combs: [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617],
  allpasses: [556, 441, 341, 225],
  stereoSpread: 23,
  allpassFeedback: 0.5,
  fixedGain: 0.015,
  scaleDamp: 0.4,
  scaleRoom: 0.28,
  offsetRoom: 0.7,
} as const;

/** roomSize and damping of each preset (Freeverb's own default is 0.5 / 0.5). */
const FREEVERB_PRESETS: Record<RoomPreset, { roomSize: number; damping: number }> = {
  small: { roomSize: 0.3, damping: 0.6 },
  medium: { roomSize: 0.6, damping: 0.5 },
  hall: { roomSize: 0.88, damping: 0.3 },
};

/**
 * Gain on the network's output: Freeverb's wet control at 1 (scalewet = 3). It puts white noise through the
 * medium preset at about the input's level (measured -0.3 dB), so `mix` crossfades between similar levels.
 */
const FREEVERB_WET_GAIN = 3;

const reverbSchema = z.strictObject({
  room: roomField,
  roomSize: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("0..1, comb feedback 0.7 + 0.28 roomSize (longer tail when larger); default from room"),
  damping: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("0..1, high-frequency damping in the combs (darker tail when larger); default from room"),
  mix: mixSchema(0.3),
});

/**
 * Freeverb on one channel (Jezar's revmodel: 8 parallel lowpass-feedback combs, then 4 series allpasses).
 * Comb k: out = buf[i]; store = out (1 - d) + store d; buf[i] = in + store f, with f = 0.7 + 0.28 roomSize and
 * d = 0.4 damping at 44.1 kHz. The one-pole's coefficient is converted to the rate, d' = d^(44100 / fs), so
 * its corner stays at the same Hz. Allpass: out = -in + buf[i]; buf[i] = in + 0.5 buf[i].
 * Channel `spread` 0 uses the left tunings, 1 the right ones (+23 samples). Input gain 0.015 as in Freeverb.
 */
export function freeverb(
  input: Float32Array,
  sampleRate: number,
  roomSize: number,
  damping: number,
  spread: 0 | 1,
): Float64Array {
  const scale = sampleRate / FREEVERB.rateHz;
  const extra = spread * FREEVERB.stereoSpread;
  const length = (samples: number) => Math.max(1, Math.round((samples + extra) * scale));
  const feedback = roomSize * FREEVERB.scaleRoom + FREEVERB.offsetRoom;
  const damp1 = (damping * FREEVERB.scaleDamp) ** (FREEVERB.rateHz / sampleRate);
  const damp2 = 1 - damp1;
  const out = new Float64Array(input.length);
  for (const tuning of FREEVERB.combs) {
    const buffer = new Float64Array(length(tuning));
    let index = 0;
    let store = 0;
    for (let n = 0; n < input.length; n++) {
      const output = buffer[index]!;
      store = output * damp2 + store * damp1;
      buffer[index] = input[n]! * FREEVERB.fixedGain + store * feedback;
      if (++index === buffer.length) index = 0;
      out[n]! += output;
    }
  }
  for (const tuning of FREEVERB.allpasses) {
    const buffer = new Float64Array(length(tuning));
    let index = 0;
    for (let n = 0; n < input.length; n++) {
      const bufferOut = buffer[index]!;
      const x = out[n]!;
      out[n] = bufferOut - x;
      buffer[index] = x + bufferOut * FREEVERB.allpassFeedback;
      if (++index === buffer.length) index = 0;
    }
  }
  return out;
}

export const reverbEffect: AnyEffect = defineEffect({
  name: "reverb",
  engine: "builtin",
  description: "Freeverb (Jezar): 8 damped feedback combs + 4 allpasses, tunings scaled to the rate",
  schema: reverbSchema,
  async render(audio, o) {
    const preset = FREEVERB_PRESETS[o.room];
    const roomSize = o.roomSize ?? preset.roomSize;
    const damping = o.damping ?? preset.damping;
    return mapChannels(audio, (channel, index) => {
      const wet = freeverb(channel, audio.sampleRate, roomSize, damping, (index % 2) as 0 | 1);
      const out = new Float32Array(channel.length);
      for (let n = 0; n < channel.length; n++) {
        out[n] = (1 - o.mix) * channel[n]! + o.mix * FREEVERB_WET_GAIN * wet[n]!;
      }
      return out;
    });
  },
});

// ---------------------------------------------------------------------------------------------------------
// Convolution with a synthesised room impulse response

const ROOM_PRESETS: Record<RoomPreset, { rt60Seconds: number; predelayMs: number; dampingHz: number }> = {
  small: { rt60Seconds: 0.4, predelayMs: 4, dampingHz: 8000 },
  medium: { rt60Seconds: 0.9, predelayMs: 10, dampingHz: 6000 },
  hall: { rt60Seconds: 2.2, predelayMs: 25, dampingHz: 4000 },
};

const roomSchema = z.strictObject({
  room: roomField,
  rt60Seconds: z
    .number()
    .min(0.05)
    .max(20)
    .optional()
    .describe("time for the tail to decay by 60 dB, seconds; default from room"),
  predelayMs: z
    .number()
    .min(0)
    .max(500)
    .optional()
    .describe("arrival of the first reflection and start of the tail, ms; default from room"),
  dampingHz: z
    .number()
    .positive()
    .optional()
    .describe("corner of the 2nd-order low-pass that colours the tail's noise, Hz; default from room"),
  reflections: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(8)
    .describe("number of discrete early reflections (between 1x and 4x the predelay)"),
  seed: z.number().int().min(0).default(0).describe("seed of the reflections and the tail's noise"),
  mix: mixSchema(0.3),
});

export interface RoomImpulseOptions {
  sampleRate: number;
  rt60Seconds: number;
  predelayMs: number;
  dampingHz: number;
  reflections: number;
  seed: number;
  /** At most this many samples (the rest could not reach the output). */
  maxSamples?: number;
}

/** Tail length in dB below its start: the response ends where the envelope reaches -80 dB. */
const TAIL_DB = 80;

/** Energy of all early reflections together relative to the tail's (-6 dB). */
const EARLY_ENERGY = 0.25;

/**
 * A synthetic room impulse response (no direct sound: `mix` adds it), normalised to unit energy
 * (sum h^2 = 1) so white noise keeps its level. With t0 = predelay and the early window W = 3 max(t0, 5 ms):
 * - late tail from t0: Gaussian noise, low-passed at dampingHz (RBJ 2nd-order), times the exponential
 *   envelope e(t) = 10^(-3 (t - t0) / rt60) (-60 dB at t0 + rt60: the definition of reverberation time,
 *   Sabine), faded in by a raised cosine over W so that the early reflections stand out;
 * - `reflections` single-sample taps, the first at t0 and the others at t0 + u W (u uniform), random signs,
 *   amplitudes e(t) / (1 + (t - t0) / W) (falling with distance), together EARLY_ENERGY of the tail's energy.
 * It ends where the envelope reaches -80 dB (or at maxSamples). Seeded: the same options give the same response.
 */
export function roomImpulseResponse(o: RoomImpulseOptions): Float64Array {
  const fs = o.sampleRate;
  const onset = Math.round((o.predelayMs / 1000) * fs);
  const full = onset + Math.ceil(((o.rt60Seconds * TAIL_DB) / 60) * fs);
  const length = Math.max(1, Math.min(full, o.maxSamples ?? full));
  const window = 3 * Math.max(onset, Math.round(0.005 * fs));
  const envelope = (n: number) => 10 ** ((-3 * (n - onset)) / (o.rt60Seconds * fs));
  const rng = new Rng(o.seed);
  const noise = new Float32Array(length);
  for (let n = onset; n < length; n++) noise[n] = rng.normal();
  const lowpass = biquadCoefficients({ type: "lowpass", frequencyHz: o.dampingHz, sampleRate: fs });
  const tail = biquadFilter(noise, lowpass);
  const h = new Float64Array(length);
  for (let n = onset; n < length; n++) {
    const k = n - onset;
    const fadeIn = k < window ? 0.5 - 0.5 * Math.cos((Math.PI * k) / window) : 1;
    h[n] = tail[n]! * envelope(n) * fadeIn;
  }
  normalizeEnergy(h, 1);
  const early = new Float64Array(length);
  for (let k = 0; k < o.reflections; k++) {
    const n = onset + (k === 0 ? 0 : Math.round(rng.float() * window));
    const sign = rng.float() < 0.5 ? -1 : 1;
    if (n < length) early[n]! += (sign * envelope(n)) / (1 + (n - onset) / window);
  }
  normalizeEnergy(early, EARLY_ENERGY);
  for (let n = 0; n < length; n++) h[n]! += early[n]!;
  normalizeEnergy(h, 1);
  return h;
}

/** Scales `x` in place so that sum x^2 = energy (left alone when it is all zeros). */
function normalizeEnergy(x: Float64Array, energy: number): void {
  let sum = 0;
  for (let n = 0; n < x.length; n++) sum += x[n]! * x[n]!;
  if (sum === 0) return;
  const scale = Math.sqrt(energy / sum);
  for (let n = 0; n < x.length; n++) x[n]! *= scale;
}

/**
 * Linear convolution y = x * h truncated to x's length, by FFT overlap-add (blocks of B = nextPow2(len h)
 * input samples, FFT size 2B >= B + len h - 1, so the circular products hold the whole linear result).
 */
export function fftConvolve(x: Float32Array, h: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  if (x.length === 0 || h.length === 0) return y;
  const block = Math.max(256, nextPowerOfTwo(h.length));
  const size = 2 * block;
  const fft = new RealFft(size);
  const frame = new Float64Array(size);
  const spectrum = new Float64Array(size + 2);
  const response = new Float64Array(size + 2);
  frame.set(h);
  fft.forward(response, frame);
  for (let start = 0; start < x.length; start += block) {
    frame.fill(0);
    const end = Math.min(start + block, x.length);
    for (let n = start; n < end; n++) frame[n - start] = x[n]!;
    fft.forward(spectrum, frame);
    for (let k = 0; k <= block; k++) {
      const [re, im] = [spectrum[2 * k]!, spectrum[2 * k + 1]!];
      const [hr, hi] = [response[2 * k]!, response[2 * k + 1]!];
      spectrum[2 * k] = re * hr - im * hi;
      spectrum[2 * k + 1] = re * hi + im * hr;
    }
    fft.inverse(frame, spectrum);
    const stop = Math.min(start + size, x.length);
    for (let n = start; n < stop; n++) y[n]! += frame[n - start]!;
  }
  return y;
}

export const roomEffect: AnyEffect = defineEffect({
  name: "room",
  engine: "builtin",
  description:
    "convolution with a synthesised room impulse response (decaying filtered noise + early reflections)",
  schema: roomSchema,
  async render(audio, o) {
    const preset = ROOM_PRESETS[o.room];
    if (o.dampingHz !== undefined) requireBelowNyquist("room", "dampingHz", o.dampingHz, audio.sampleRate);
    const frames = audio.channels[0]!.length;
    const options = {
      sampleRate: audio.sampleRate,
      rt60Seconds: o.rt60Seconds ?? preset.rt60Seconds,
      predelayMs: o.predelayMs ?? preset.predelayMs,
      // A preset's corner is capped below Nyquist so presets work at every rate.
      dampingHz: o.dampingHz ?? Math.min(preset.dampingHz, 0.45 * audio.sampleRate),
      reflections: o.reflections,
      maxSamples: frames,
    };
    return mapChannels(audio, (channel, index) => {
      const h = roomImpulseResponse({ ...options, seed: deriveSeed(o.seed, "room", index) });
      const wet = fftConvolve(channel, h);
      return channel.map((x, n) => (1 - o.mix) * x + o.mix * wet[n]!);
    });
  },
});
