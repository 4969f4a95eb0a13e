import { z } from "zod";
import { makeAudio } from "../../audio/audio.ts";
import { resample } from "../../audio/resample.ts";
import { biquadCascade, biquadCoefficients, butterworthQs } from "../../dsp/biquad.ts";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels, requireBelowNyquist } from "./common.ts";

/**
 * G.711 companding (ITU-T Recommendation G.711, "Pulse code modulation (PCM) of voice frequencies", 1988,
 * tables 1 and 2), written after the public-domain reference code by Sun Microsystems (g711.c), which
 * works on 16-bit linear samples: mu-law uses the top 14 bits, A-law the top 13. Encoders pick the segment
 * (exponent) and 4-bit mantissa of the magnitude; decoders return the middle of the code's interval.
 * Codes are as transmitted (mu-law with all bits inverted, A-law with even bits inverted: x ^ 0x55).
 */

const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
const SIGN_BIT = 0x80;
const MULAW_BIAS = 0x84; // 132: bias added to the magnitude so segments start on powers of two
const MULAW_CLIP = 8159; // largest 14-bit magnitude
const MULAW_SEGMENT_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEGMENT_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]!) return i;
  return ends.length;
}

/** 16-bit linear sample (-32768..32767) -> 8-bit mu-law code. 0 -> 0xff, 32767 -> 0x80, -32768 -> 0x00. */
export function linearToMulaw(pcm16: number): number {
  let value = pcm16 >> 2;
  let mask: number;
  if (value < 0) {
    value = -value;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (value > MULAW_CLIP) value = MULAW_CLIP;
  value += MULAW_BIAS >> 2;
  const seg = segment(value, MULAW_SEGMENT_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << SEG_SHIFT) | ((value >> (seg + 1)) & QUANT_MASK)) ^ mask;
}

/** 8-bit mu-law code -> 16-bit linear sample: 0x80 -> 32124, 0x00 -> -32124, 0xff and 0x7f -> 0. */
export function mulawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & QUANT_MASK) << 3) + MULAW_BIAS;
  t <<= (u & SEG_MASK) >> SEG_SHIFT;
  return u & SIGN_BIT ? MULAW_BIAS - t : t - MULAW_BIAS;
}

/** 16-bit linear sample -> 8-bit A-law code. 0 -> 0xd5, -1 -> 0x55, 32767 -> 0xaa, -32768 -> 0x2a. */
export function linearToAlaw(pcm16: number): number {
  let value = pcm16 >> 3;
  let mask: number;
  if (value >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const seg = segment(value, ALAW_SEGMENT_END);
  if (seg >= 8) return 0x7f ^ mask;
  const mantissa = seg < 2 ? (value >> 1) & QUANT_MASK : (value >> seg) & QUANT_MASK;
  return ((seg << SEG_SHIFT) | mantissa) ^ mask;
}

/** 8-bit A-law code -> 16-bit linear sample: 0xd5 -> 8, 0x55 -> -8, 0xaa -> 32256, 0x2a -> -32256. */
export function alawToLinear(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  let t = (a & QUANT_MASK) << 4;
  const seg = (a & SEG_MASK) >> SEG_SHIFT;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & SIGN_BIT ? t : -t;
}

export const phoneCodecs = ["mulaw", "alaw", "none"] as const;
export type PhoneCodec = (typeof phoneCodecs)[number];

/** Encodes and decodes a float signal in [-1, 1) through 16-bit PCM and the codec, in place. */
export function companding(signal: Float32Array, codec: PhoneCodec): void {
  if (codec === "none") return;
  const [encode, decode] = codec === "mulaw" ? [linearToMulaw, mulawToLinear] : [linearToAlaw, alawToLinear];
  for (let n = 0; n < signal.length; n++) {
    const pcm = Math.max(-32768, Math.min(32767, Math.round(signal[n]! * 32768)));
    signal[n] = decode(encode(pcm)) / 32768;
  }
}

/** The telephone channel's sample rate, Hz. */
export const PHONE_RATE_HZ = 8000;

const phoneSchema = z
  .strictObject({
    lowHz: z
      .number()
      .min(20)
      .max(2000)
      .default(300)
      .describe("lower band edge, Hz (4th-order Butterworth high-pass)"),
    highHz: z
      .number()
      .min(500)
      .max(3900)
      .default(3400)
      .describe("upper band edge, Hz (4th-order Butterworth low-pass; the 8 kHz channel ends at 4 kHz)"),
    codec: z
      .enum(phoneCodecs)
      .default("mulaw")
      .describe("G.711 companding at 8 kHz: mulaw (North America, Japan), alaw (Europe) or none"),
  })
  .refine((o) => o.lowHz < o.highHz, { message: "lowHz must be below highHz", path: ["lowHz"] });

/**
 * A narrow-band phone call: band-limit to lowHz..highHz (4th-order Butterworth high- and low-pass, RBJ
 * sections), resample to 8 kHz (windowed sinc, which also removes everything above ~3.8 kHz), G.711
 * encode + decode at 16-bit precision, and resample back to the input's rate. The resamplers are zero-phase
 * and the codec has no frame delay, so latency 0 (the filters' phase is part of the sound).
 */
export const phoneEffect: AnyEffect = defineEffect({
  name: "phone",
  engine: "builtin",
  description: "telephone: 300-3400 Hz band, 8 kHz, G.711 mu-law or A-law, back to the input rate",
  schema: phoneSchema,
  async render(audio, o) {
    requireBelowNyquist("phone", "highHz", o.highHz, audio.sampleRate);
    const sections = [
      ...butterworthQs(4).map((q) =>
        biquadCoefficients({ type: "highpass", frequencyHz: o.lowHz, sampleRate: audio.sampleRate, q }),
      ),
      ...butterworthQs(4).map((q) =>
        biquadCoefficients({ type: "lowpass", frequencyHz: o.highHz, sampleRate: audio.sampleRate, q }),
      ),
    ];
    return mapChannels(audio, (channel) => {
      const band = biquadCascade(channel, sections);
      const narrow = resample(makeAudio(audio.sampleRate, [band]), PHONE_RATE_HZ).channels[0]!;
      companding(narrow, o.codec); // in place: `narrow` is new (or `band` itself at 8 kHz)
      const back = resample(makeAudio(PHONE_RATE_HZ, [narrow]), audio.sampleRate).channels[0]!;
      return fitLength(back, channel.length);
    });
  },
});

/** The resampler's round trip can differ from the input's length by a sample (rounding): pad or cut. */
function fitLength(signal: Float32Array, length: number): Float32Array {
  if (signal.length === length) return signal;
  const out = new Float32Array(length);
  out.set(signal.subarray(0, length));
  return out;
}
