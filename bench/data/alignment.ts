import { readFileSync } from "node:fs";
import { estimateDelay } from "../../src/audio/latency.ts";
import { decodeWav } from "../../src/audio/wav.ts";
import { Rng } from "../../src/core/rng.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import type { Benchmark, Figure } from "../harness.ts";

const PEDALS = new URL("../../../shared/data/deepsp-paper/pedals/", import.meta.url);

/**
 * Latency detection: on the study's pedal recordings (no ground truth: the figure is the delay found per
 * material, and the spread across materials, which share one pedal chain), and on synthetic pairs with a
 * known delay through a low-pass + tanh drive (the error is exact there).
 */
export const alignmentBench: Benchmark = {
  name: "alignment",
  description: "delay estimation on the pedals recordings and on synthetic known delays",
  async run() {
    const figures: Figure[] = [];
    const found: number[] = [];
    for (const material of ["sin", "square", "plysaw"]) {
      let pre: Uint8Array;
      try {
        pre = readFileSync(new URL(`pre/${material}.wav`, PEDALS));
      } catch {
        figures.push({ name: "pedals", value: Number.NaN, unit: "", note: "../shared/data absent: skipped" });
        break;
      }
      const post = readFileSync(new URL(`post/${material}.wav`, PEDALS));
      const start = performance.now();
      const estimate = estimateDelay(decodeWav(pre).audio, decodeWav(post).audio);
      const ms = performance.now() - start;
      found.push(estimate.delaySamples);
      figures.push({
        name: `pedals ${material}: delay`,
        value: estimate.delaySamples,
        unit: "samples",
        note: `${estimate.method}, confidence ${estimate.confidence.toFixed(2)}, sub-sample ${estimate.fractionalDelay?.toFixed(2)}, ${ms.toFixed(0)} ms`,
      });
    }
    if (found.length > 1) {
      figures.push({
        name: "pedals: spread across materials",
        value: Math.max(...found) - Math.min(...found),
        unit: "samples",
      });
    }

    // Synthetic: white noise -> 5 kHz low-pass -> tanh(8x) -> delay. The low-pass adds 2 samples of group
    // delay (sqrt(2) / (2 pi 5000 Hz) at 48 kHz), which is subtracted before taking the error.
    const rate = 48000;
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 4 * rate }, () => 0.2 * rng.normal());
    const shaped = biquadFilter(
      x,
      biquadCoefficients({ type: "lowpass", frequencyHz: 5000, sampleRate: rate }),
    ).map((v) => Math.tanh(8 * v));
    let worst = 0;
    for (const delay of [0, 3, 48, 127, 480, 2000, -30]) {
      const y = new Float32Array(x.length);
      for (let n = 0; n < y.length; n++) y[n] = shaped[n - delay] ?? 0;
      const estimate = estimateDelay(
        { sampleRate: rate, channels: [x] },
        { sampleRate: rate, channels: [y] },
      );
      worst = Math.max(worst, Math.abs(estimate.delaySamples - 2 - delay));
    }
    figures.push({ name: "synthetic (7 delays, -30..2000): worst error", value: worst, unit: "samples" });
    return figures;
  },
};
