import { type Audio, makeAudio } from "../../audio/audio.ts";
import type { Region, Role } from "../../data/split.ts";
import type { SplitPair } from "../../data/windows.ts";
import type { Model } from "../../nn/models/model.ts";
import { createStreamProcessor, processWhole } from "../../runtime/index.ts";
import type { EvaluateSource } from "../../train/evaluate.ts";

/**
 * Runs a model over held-out regions with the streaming runtime, exactly as it runs in real time, and
 * collects the scored audio for the metrics, the players and the renders. Platform-neutral.
 */

/** The held-out audio a report scores: the test regions, or the validation ones when there is no test. */
export function scoredSources(parts: readonly SplitPair[]): {
  role: Role;
  sources: (EvaluateSource & { name: string })[];
} {
  for (const role of ["test", "validation"] as const) {
    const sources = parts
      .filter((part) => part.split.regions[role].length > 0)
      .map((part) => ({ name: part.name, pair: part.pair, regions: part.split.regions[role] }));
    if (sources.length > 0) return { role, sources };
  }
  return { role: "test", sources: [] };
}

export interface ScoredAudio {
  input: Audio;
  target: Audio;
  output: Audio;
  /** Where each piece came from: frames [start, end) of source `source`'s pair, concatenated in order. */
  pieces: { source: number; start: number; end: number }[];
  /** Frames at the start of each region that were run (history, burn-in) but are not in the audio. */
  skipped: number;
}

/**
 * Runs `model` over every region (the processor reset at each, as `evaluateSources` does) and returns the
 * scored frames of input, target and output, concatenated over regions: a region's first
 * receptiveField - 1 + burnIn frames are run but left out, so the audio is exactly what deepsp train's
 * held-out ESR measures. `maxFrames` stops collecting (and running) after that many scored frames.
 */
export function runRegions(
  model: Model,
  sources: readonly EvaluateSource[],
  options: { burnIn?: number; maxFrames?: number; blockSize?: number } = {},
): ScoredAudio {
  const skip = model.receptiveField - 1 + (options.burnIn ?? 0);
  const maxFrames = options.maxFrames ?? Number.POSITIVE_INFINITY;
  const first = sources[0];
  if (!first) throw new RangeError("runRegions: no audio to run the model over");
  const sampleRate = first.pair.input.sampleRate;
  const channels = first.pair.input.channels.length;
  const processor = createStreamProcessor(model, { audioChannels: channels, warmUpSamples: 0 });
  const pieces: ScoredAudio["pieces"] = [];
  const collected = {
    input: [] as Float32Array[][],
    target: [] as Float32Array[][],
    output: [] as Float32Array[][],
  };
  let frames = 0;
  sources.forEach((source, index) => {
    for (const region of source.regions as Region[]) {
      const wanted = Math.min(region.end - region.start - skip, maxFrames - frames);
      if (wanted <= 0) continue;
      const end = region.start + skip + wanted;
      const input = source.pair.input.channels.map((channel) => channel.subarray(region.start, end));
      const output = processWhole(processor, input, { blockSize: 4096, sampleRate });
      collected.input.push(input.map((channel) => channel.subarray(skip)));
      collected.target.push(
        source.pair.target.channels.map((channel) => channel.subarray(region.start + skip, end)),
      );
      collected.output.push(output.map((channel) => channel.subarray(skip)));
      pieces.push({ source: index, start: region.start + skip, end });
      frames += wanted;
    }
  });
  const join = (parts: Float32Array[][]): Audio =>
    makeAudio(
      sampleRate,
      Array.from({ length: channels }, (_, c) => {
        const joined = new Float32Array(frames);
        let offset = 0;
        for (const part of parts) {
          joined.set(part[c]!, offset);
          offset += part[c]!.length;
        }
        return joined;
      }),
    );
  return {
    input: join(collected.input),
    target: join(collected.target),
    output: join(collected.output),
    pieces,
    skipped: skip,
  };
}

/** Error-to-signal ratio sum (y - yhat)^2 / sum y^2 over all channels (Wright & Välimäki). */
export function esrOf(target: Audio, output: Audio): number {
  let error = 0;
  let signal = 0;
  target.channels.forEach((y, c) => {
    const yhat = output.channels[c]!;
    for (let i = 0; i < y.length; i++) {
      error += (y[i]! - yhat[i]!) ** 2;
      signal += y[i]! ** 2;
    }
  });
  return signal > 0 ? error / signal : error > 0 ? Number.POSITIVE_INFINITY : 0;
}
