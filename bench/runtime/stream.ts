import { existsSync, readdirSync, readFileSync } from "node:fs";
import { parseNamFile } from "../../src/io/nam/file.ts";
import { createNamStreamProcessor } from "../../src/io/nam/player.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { createStreamProcessor, type StreamProcessor } from "../../src/runtime/index.ts";
import type { Benchmark, Figure } from "../harness.ts";

/** What an audio host does: 48 kHz, 64-frame blocks, one core. */
export const SAMPLE_RATE = 48000;
export const BLOCK = 64;
const SECONDS = 5;

/** Blocks per timed segment (about 0.26 s of audio). */
const SEGMENT_BLOCKS = 192;

/**
 * Streaming speed of a prepared processor: seconds of 48 kHz mono audio processed per second of compute
 * (x real time), in 64-frame blocks over 5 s of noise, after a warm-up run. Three runs from reset, each timed in
 * segments of 192 blocks; a segment counts its fastest run (every run computes the same thing there), so time the
 * process lost to other programs on a busy machine (preemption, a shared core) mostly drops out.
 */
export function realTimeFactor(processor: StreamProcessor): number {
  const frames = SECONDS * SAMPLE_RATE;
  const input = new Float32Array(frames);
  let seed = 1;
  for (let n = 0; n < frames; n++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    input[n] = 0.5 * (seed / 2 ** 32 - 0.5);
  }
  const output = new Float32Array(BLOCK);
  const blocks = Math.floor(frames / BLOCK);
  const best = new Float64Array(Math.ceil(blocks / SEGMENT_BLOCKS)).fill(Infinity);
  const run = (): void => {
    processor.reset();
    for (let segment = 0; segment < best.length; segment++) {
      const start = performance.now();
      const end = Math.min(blocks, (segment + 1) * SEGMENT_BLOCKS);
      for (let b = segment * SEGMENT_BLOCKS; b < end; b++) {
        processor.process([input.subarray(b * BLOCK, (b + 1) * BLOCK)], [output], BLOCK);
      }
      best[segment] = Math.min(best[segment]!, performance.now() - start);
    }
  };
  run();
  best.fill(Infinity);
  run();
  run();
  run();
  const seconds = best.reduce((sum, ms) => sum + ms, 0) / 1000;
  return (blocks * BLOCK) / SAMPLE_RATE / seconds;
}

/** NAM core's own speed, one core, 64-frame blocks (../shared/bench-anchors/README.md), x real time at 48 kHz. */
const NAM_CORE: Readonly<Record<string, number>> = { wavenet_a1_standard: 12.7, lstm: 159, wavenet: 194 };
const NAM_MODELS = new URL("../../../shared/data/nam-reference/models/", import.meta.url);

const PRESETS = ["linear-256", "lstm-16", "gru-16", "tcn-small", "wavenet-nano", "wavenet-standard"];

/**
 * Multiply-adds per sample of WaveNet A1 standard (the 16-channel array: rechannel 1 -> 16, ten layers of a
 * 16 -> 16 kernel-3 conv, a 1 -> 16 mixin and a 16 x 16 layer1x1, head rechannel 16 -> 8; the 8-channel array:
 * rechannel 16 -> 8, ten layers of 8 x 8 x 3 + 8 + 8 x 8 but the last layer1x1 (unused), head 8 -> 1), for its
 * GFLOP/s (two FLOPs per multiply-add; the 240 tanh per sample not counted).
 */
const A1_MACS_PER_SAMPLE = 16 + 10 * (768 + 16 + 256) + 128 + (128 + 10 * (192 + 8 + 64) - 64 + 8);

export const runtimeBench: Benchmark = {
  name: "runtime",
  description: `streaming inference, ${SAMPLE_RATE} Hz, ${BLOCK}-frame blocks, one core, x real time (higher is faster)`,
  async run(): Promise<Figure[]> {
    const figures: Figure[] = PRESETS.map((name) => {
      const processor = createStreamProcessor(createModel(findPreset(name).model, { seed: 1 }));
      processor.prepare(SAMPLE_RATE, BLOCK);
      return { name: `deepsp ${name}`, value: realTimeFactor(processor), unit: "x real time" };
    });
    if (!existsSync(NAM_MODELS)) {
      console.log("  (../shared/data/nam-reference is absent: the .nam example models are not measured)");
      return figures;
    }
    for (const name of readdirSync(NAM_MODELS)
      .filter((file) => file.endsWith(".nam"))
      .sort()) {
      const model = name.replace(/\.nam$/, "");
      if (model === "my_model") continue; // byte-identical to wavenet_a1_standard
      const file = parseNamFile(readFileSync(new URL(name, NAM_MODELS), "utf8"), name);
      // A1 and the LSTM also with exact activations (float64 tanh / sigmoid on the wasm layers; the JS LSTM cell).
      for (const exactActivations of model === "wavenet_a1_standard" || model === "lstm"
        ? [false, true]
        : [false]) {
        const processor = createNamStreamProcessor(file, { exactActivations });
        processor.prepare(SAMPLE_RATE, BLOCK);
        const value = realTimeFactor(processor);
        const core = NAM_CORE[model];
        const notes: string[] = [];
        if (core) notes.push(`NAM core ${core}x: ratio ${(value / core).toFixed(2)}`);
        if (model === "wavenet_a1_standard") {
          notes.push(`${((2 * A1_MACS_PER_SAMPLE * value * SAMPLE_RATE) / 1e9).toFixed(1)} GFLOP/s`);
        }
        figures.push({
          name: `.nam ${model}${exactActivations ? ", exact activations" : ""}`,
          value,
          unit: "x real time",
          ...(notes.length > 0 ? { note: notes.join(", ") } : {}),
        });
      }
    }
    return figures;
  },
};
