import { z } from "zod";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { dbToGain, mapChannels } from "./common.ts";

const compressorSchema = z.strictObject({
  thresholdDb: z
    .number()
    .min(-80)
    .max(0)
    .default(-20)
    .describe("level above which gain is reduced, dBFS (sample peak)"),
  ratio: z
    .number()
    .min(1)
    .max(100)
    .default(4)
    .describe("input dB over threshold per output dB over threshold (1 = no compression)"),
  kneeDb: z.number().min(0).max(40).default(6).describe("width of the soft knee around the threshold, dB"),
  attackMs: z
    .number()
    .min(0)
    .max(1000)
    .default(10)
    .describe("attack time constant, ms (gain reduction reaches 63% of a step in this time)"),
  releaseMs: z
    .number()
    .min(0)
    .max(5000)
    .default(100)
    .describe("release time constant, ms (gain reduction falls to 37% of a step in this time)"),
  makeupDb: z.number().min(-24).max(48).default(0).describe("gain added after compression, dB"),
});

type CompressorOptions = z.output<typeof compressorSchema>;

/** Level of digital silence in the log domain (keeps log10(0) out of the gain computer). */
const FLOOR_DB = -240;

/**
 * Static curve of the gain computer in the log domain (Giannoulis, Massberg & Reiss, "Digital Dynamic
 * Range Compressor Design — A Tutorial and Analysis", JAES 60(6), 2012, the soft-knee gain computer), T = threshold, R = ratio,
 * W = knee width:
 *   yG = xG                                    if 2 (xG - T) < -W
 *   yG = xG + (1/R - 1) (xG - T + W/2)^2 / (2W) if 2 |xG - T| <= W
 *   yG = T + (xG - T) / R                      if 2 (xG - T) > W
 */
export function gainComputerDb(
  inputDb: number,
  o: Pick<CompressorOptions, "thresholdDb" | "ratio" | "kneeDb">,
): number {
  const over = inputDb - o.thresholdDb;
  if (2 * over < -o.kneeDb) return inputDb;
  if (2 * over > o.kneeDb) return o.thresholdDb + over / o.ratio;
  const k = over + o.kneeDb / 2;
  return inputDb + ((1 / o.ratio - 1) * k * k) / (2 * o.kneeDb);
}

/** Smoothing coefficient for a time constant: alpha = e^(-1 / (tau fs)) (Giannoulis et al. 2012); 0 for tau = 0. */
function smoothing(timeMs: number, sampleRate: number): number {
  return timeMs <= 0 ? 0 : Math.exp(-1000 / (timeMs * sampleRate));
}

/**
 * Feed-forward compressor after Giannoulis, Massberg & Reiss (JAES 2012), their recommended arrangement
 * (the level detector in the log domain after the gain computer, as a "smooth branching" peak detector),
per sample n:
 *   xG = 20 log10 |x[n]|;  xL = xG - yG(xG)   (gain reduction wanted, dB >= 0, from gainComputerDb)
 *   yL[n] = aA yL[n-1] + (1 - aA) xL   if xL > yL[n-1]  (attack)
 *         = aR yL[n-1] + (1 - aR) xL   otherwise        (release)
 *   y[n] = x[n] 10^((makeup - yL[n]) / 20)
 * The detector runs in the log domain, so a level step moves the gain in dB by an exact one-pole curve.
 * Channels are compressed independently (no stereo link). No look-ahead, so no latency.
 */
export function compress(channel: Float32Array, sampleRate: number, o: CompressorOptions): Float32Array {
  const out = new Float32Array(channel.length);
  const attack = smoothing(o.attackMs, sampleRate);
  const release = smoothing(o.releaseMs, sampleRate);
  let reductionDb = 0;
  for (let n = 0; n < channel.length; n++) {
    const x = channel[n]!;
    const magnitude = Math.abs(x);
    const inputDb = magnitude > 0 ? Math.max(FLOOR_DB, 20 * Math.log10(magnitude)) : FLOOR_DB;
    const wantedDb = inputDb - gainComputerDb(inputDb, o);
    const alpha = wantedDb > reductionDb ? attack : release;
    reductionDb = alpha * reductionDb + (1 - alpha) * wantedDb;
    out[n] = x * dbToGain(o.makeupDb - reductionDb);
  }
  return out;
}

export const compressorEffect: AnyEffect = defineEffect({
  name: "compressor",
  engine: "builtin",
  description:
    "feed-forward soft-knee compressor, log-domain peak detector (Giannoulis, Massberg & Reiss 2012)",
  schema: compressorSchema,
  async render(audio, o) {
    return mapChannels(audio, (channel) => compress(channel, audio.sampleRate, o));
  },
});
