import { z } from "zod";
import { makeAudio } from "../../audio/audio.ts";
import { resample } from "../../audio/resample.ts";
import { biquadCascade, biquadCoefficients, butterworthQs } from "../../dsp/biquad.ts";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels, requireBelowNyquist } from "./common.ts";

/**
 * G.711 companding (ITU-T Recommendation G.711, "Pulse code modulation (PCM) of voice frequencies", 1988),
 * ported from the ITU-T G.191 Software Tool Library's g711.c (ulaw_compress / ulaw_expand /
 * alaw_compress / alaw_expand). Inputs are 16-bit linear samples; mu-law uses their top 14 bits, A-law
 * their top 13, negative values by their one's complement (~x = -x - 1, so the quantiser is symmetric about
 * -1/2, the middle of two's complement's range). A code is a 3-bit segment (exponent) and a 4-bit mantissa;
 * decoders return the middle of the code's interval. Codes are as transmitted: mu-law with all bits
 * inverted, A-law with the even bits inverted (x ^ 0x55).
 */

/** 16-bit linear sample (-32768..32767) -> 8-bit mu-law code. 0 -> 0xff, -1 -> 0x7f, 32767 -> 0x80. */
export function linearToMulaw(pcm16: number): number {
  // Magnitude in 14-bit units plus the bias 33, so that segment boundaries fall on powers of two.
  let magnitude = (pcm16 < 0 ? ~pcm16 >> 2 : pcm16 >> 2) + 33;
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  let segment = 1;
  for (let i = magnitude >> 6; i !== 0; i >>= 1) segment++;
  const mantissa = 0x0f - ((magnitude >> segment) & 0x0f);
  const code = ((0x08 - segment) << 4) | mantissa;
  return pcm16 >= 0 ? code | 0x80 : code;
}

/** 8-bit mu-law code -> 16-bit linear sample: 0x80 -> 32124, 0x00 -> -32124, 0xff and 0x7f -> 0. */
export function mulawToLinear(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const step = 4 << (exponent + 1);
  const magnitude = (0x80 << exponent) + step * (inverted & 0x0f) + step / 2 - 4 * 33;
  return code < 0x80 ? 0 - magnitude : magnitude; // 0 - 0 is +0: negative zero decodes to 0 like ITU's ints
}

/** 16-bit linear sample -> 8-bit A-law code. 0 -> 0xd5, -1 -> 0x55, 32767 -> 0xaa, -32768 -> 0x2a. */
export function linearToAlaw(pcm16: number): number {
  let value = pcm16 < 0 ? ~pcm16 >> 4 : pcm16 >> 4; // 12-bit magnitude, 0..2047
  if (value > 15) {
    let exponent = 1;
    while (value > 16 + 15) {
      value >>= 1;
      exponent++;
    }
    value = value - 16 + (exponent << 4); // drop the leading 1, put the exponent above the mantissa
  }
  if (pcm16 >= 0) value |= 0x80;
  return value ^ 0x55;
}

/** 8-bit A-law code -> 16-bit linear sample: 0xd5 -> 8, 0x55 -> -8, 0xaa -> 32256, 0x2a -> -32256. */
export function alawToLinear(code: number): number {
  const value = (code ^ 0x55) & 0x7f;
  const exponent = value >> 4;
  let mantissa = value & 0x0f;
  if (exponent > 0) mantissa += 16; // the leading 1
  mantissa = (mantissa << 4) + 0x08; // left-justified, plus half a step
  if (exponent > 1) mantissa <<= exponent - 1;
  return code > 0x7f ? mantissa : 0 - mantissa;
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
