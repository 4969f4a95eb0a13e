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

/**
 * Streaming speed of a prepared processor: seconds of 48 kHz mono audio processed per second of compute
 * (x real time), in 64-frame blocks after a warm-up, median of three runs over 5 s of noise.
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
  const run = (): number => {
    processor.reset();
    const start = performance.now();
    for (let offset = 0; offset + BLOCK <= frames; offset += BLOCK) {
      processor.process([input.subarray(offset, offset + BLOCK)], [output], BLOCK);
    }
    return (performance.now() - start) / 1000;
  };
  run();
  const times = [run(), run(), run()].sort((a, b) => a - b);
  return SECONDS / times[1]!;
}

/** NAM core's own speed, one core, 64-frame blocks (../shared/bench-anchors/README.md), x real time at 48 kHz. */
const NAM_CORE: Readonly<Record<string, number>> = { wavenet_a1_standard: 12.7, lstm: 159, wavenet: 194 };
const NAM_MODELS = new URL("../../../shared/data/nam-reference/models/", import.meta.url);

const PRESETS = ["linear-256", "lstm-16", "gru-16", "tcn-small", "wavenet-nano", "wavenet-standard"];

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
      const processor = createNamStreamProcessor(file);
      processor.prepare(SAMPLE_RATE, BLOCK);
      const value = realTimeFactor(processor);
      const core = NAM_CORE[model];
      figures.push({
        name: `.nam ${model}`,
        value,
        unit: "x real time",
        ...(core ? { note: `NAM core ${core}x: ratio ${(value / core).toFixed(2)}` } : {}),
      });
    }
    return figures;
  },
};
