import { z } from "zod";
import { deriveSeed, Rng } from "../../core/rng.ts";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels } from "./common.ts";

const bitcrusherSchema = z.strictObject({
  bits: z
    .number()
    .int()
    .min(1)
    .max(24)
    .default(8)
    .describe("word length, bits: 2^bits levels over [-1, 1) (step 2^(1 - bits))"),
  downsample: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(1)
    .describe("sample-and-hold factor, samples: each held value lasts this many samples (1 = off)"),
  dither: z
    .boolean()
    .default(false)
    .describe("add TPDF dither of +-1 step before rounding (seeded, so still deterministic)"),
  seed: z.number().int().min(0).default(0).describe("seed of the dither noise"),
});

/**
 * Quantises `x` to a `bits`-bit mid-tread grid the way a float -> b-bit PCM conversion does:
 * q = step * round(x / step), step = 2^(1 - bits), clamped to [-1, 1 - step]. Rounding error is uniform in
 * +-step/2 for busy signals, noise power step^2 / 12: 6.02 dB less per extra bit (Bennett, "Spectra of
 * quantized signals", Bell System Technical Journal 27, 1948).
 */
export function quantize(x: number, step: number): number {
  const q = step * Math.round(x / step);
  return Math.min(1 - step, Math.max(-1, q));
}

/**
 * Bit depth and sample-rate reduction: a zero-order hold keeps every `downsample`-th sample for
 * `downsample` samples (no anti-alias filter, the aliasing is the sound), then each value is quantised to
 * `bits` bits, optionally with triangular (TPDF, two uniform variates) dither of peak +-1 step.
 * No latency: the hold starts at the first sample of each block.
 */
export const bitcrusherEffect: AnyEffect = defineEffect({
  name: "bitcrusher",
  engine: "builtin",
  description: "bit-depth reduction (mid-tread rounding) and sample-and-hold rate reduction",
  schema: bitcrusherSchema,
  async render(audio, o) {
    const step = 2 ** (1 - o.bits);
    return mapChannels(audio, (channel, index) => {
      const out = new Float32Array(channel.length);
      const rng = o.dither ? new Rng(deriveSeed(o.seed, "bitcrusher", index)) : undefined;
      let held = 0;
      for (let n = 0; n < channel.length; n++) {
        if (n % o.downsample === 0) {
          const dither = rng ? step * (rng.float() - rng.float()) : 0;
          held = quantize(channel[n]! + dither, step);
        }
        out[n] = held;
      }
      return out;
    });
  },
});
