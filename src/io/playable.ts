import type { StreamProcessor } from "../runtime/index.ts";
import { createStreamProcessor } from "../runtime/index.ts";
import type { ImportedModel, ModelFormat } from "./import.ts";
import type { ModelFile } from "./model-file.ts";
import type { NamFile } from "./nam/file.ts";
import { createNamStreamProcessor, loadNamDsp } from "./nam/player.ts";

/** The rate NAM core assumes for a .nam file that does not say (NAM/dsp.h's default). */
export const NAM_DEFAULT_SAMPLE_RATE = 48000;

/**
 * Any model deepsp can play, whatever file it came from: what `deepsp process`, `eval` and `inspect` need.
 * A .nam file always plays through NAM's player (src/io/nam/player.ts: exact, prewarmed as NAM core does, an
 * LSTM from its stored initial state); deepsp and RTNeural files through deepsp's runtime.
 */
export interface PlayableModel {
  /** The file, for messages. */
  source: string;
  format: ModelFormat;
  /** "lstm", "wavenet", ... for deepsp models; ".nam WaveNet", ".nam SlimmableContainer", ... for .nam files. */
  architecture: string;
  /** Hz. */
  sampleRate: number;
  /** Channels the model maps (a mono model runs once per audio channel). */
  channels: number;
  /** Samples the output lags the input. */
  latencySamples: number;
  parameters: number;
  /** Input samples each output sample depends on; null for recurrent models (their memory is their state). */
  receptiveField: number | null;
  /** The model as a deepsp model file, when it is one or converts to one (export, fine-tuning); else null. */
  file: ModelFile | null;
  /** The .nam file, when it came from one. */
  nam: NamFile | null;
  /** A processor for `audioChannels` channels of audio. */
  createProcessor(audioChannels: number): StreamProcessor;
}

export function playableModel(imported: ImportedModel, source: string): PlayableModel {
  if (imported.kind === "nam" || imported.nam) {
    const nam = imported.kind === "nam" ? imported.nam : imported.nam!;
    const dsp = loadNamDsp(nam);
    return {
      source,
      format: "nam",
      architecture: `.nam ${nam.architecture}`,
      sampleRate: nam.sampleRate ?? NAM_DEFAULT_SAMPLE_RATE,
      channels: 1,
      latencySamples: 0,
      parameters: countNamWeights(nam),
      receptiveField: dsp.receptiveField ?? null,
      file: imported.kind === "deepsp" ? imported.file : null,
      nam,
      createProcessor: (audioChannels) => createNamStreamProcessor(nam, { audioChannels }),
    };
  }
  const { file } = imported;
  return {
    source,
    format: imported.format,
    architecture: file.model.architecture,
    sampleRate: file.sampleRate,
    channels: file.model.channels,
    latencySamples: file.latencySamples,
    parameters: file.model.parameters.count,
    receptiveField: file.model.recurrent ? null : file.model.receptiveField,
    file,
    nam: null,
    createProcessor: (audioChannels) => createStreamProcessor(file.model, { audioChannels }),
  };
}

/** A .nam file's weights, nested submodels and condition DSPs included (what the file stores). */
function countNamWeights(nam: NamFile): number {
  let count = nam.weights.length;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value !== null && typeof value === "object") {
      const object = value as Record<string, unknown>;
      if (typeof object["architecture"] === "string" && Array.isArray(object["weights"])) {
        count += (object["weights"] as unknown[]).length;
      }
      for (const [key, item] of Object.entries(object)) if (key !== "weights") visit(item);
    }
  };
  visit(nam.config);
  return count;
}
