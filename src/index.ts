/**
 * deepsp's platform-neutral API: everything here runs in Node, in Web Workers and in browsers.
 * File and process access (reading WAV files, checkpoints, external tools) is in "deepsp/node".
 */
export { type Audio, durationSeconds, frameCount, makeAudio, mixToMono, peak, rms } from "./audio/audio.ts";
export { applyDelay, type DelayEstimate, type DelayOptions, estimateDelay } from "./audio/latency.ts";
export { resample } from "./audio/resample.ts";
export {
  type DecodedWav,
  decodeWav,
  describeFormat,
  encodeWav,
  type WavEncoding,
  type WavFormat,
} from "./audio/wav.ts";
export { DeepspError, OptionError, PairError, ToolError, WavError } from "./core/errors.ts";
export { deriveSeed, Rng } from "./core/rng.ts";
export { type PreparedPair, preparePairForTraining } from "./data/dataset.ts";
export { type Pair, type PairOptions, type PairReport, preparePair } from "./data/pair.ts";
export {
  parseSplitSpec,
  type Region,
  type Role,
  type Split,
  type SplitSpec,
  splitFrames,
} from "./data/split.ts";
export { type Batch, type SplitPair, type WindowOptions, Windows, windowsForRole } from "./data/windows.ts";
export { type BiquadDesign, biquadCoefficients, biquadFilter } from "./dsp/biquad.ts";
export { hannWindow, powerSpectrum, RealFft } from "./dsp/fft.ts";
export { detectModelFormat, type ImportedModel, importModel, type ModelFormat } from "./io/import.ts";
export { type ModelFile, type ModelMetadata, parseModelFile, serializeModel } from "./io/model-file.ts";
export { modelFileFromNam, type NamDocument, namFromModelFile } from "./io/nam/convert.ts";
export { NamError, type NamFile, parseNamFile } from "./io/nam/file.ts";
export { createNamStreamProcessor, loadNamDsp, type NamDsp } from "./io/nam/player.ts";
export { type PlayableModel, playableModel } from "./io/playable.ts";
export {
  modelFileFromRtneural,
  type RtneuralDocument,
  RtneuralError,
  rtneuralFromModelFile,
} from "./io/rtneural/convert.ts";
export { jsKernels, type Kernels, kernels, referenceKernels, useKernels } from "./nn/kernels/index.ts";
export type { Model } from "./nn/models/model.ts";
export { findPreset, PRESETS, type Preset } from "./nn/models/presets.ts";
export { ARCHITECTURES, createModel, type ModelConfig, parseModelConfig } from "./nn/models/registry.ts";
export { transferParameters } from "./nn/models/transfer.ts";
export { Parameters } from "./nn/parameters.ts";
export { createStreamProcessor, processWhole, type StreamProcessor } from "./runtime/index.ts";
export {
  builtinMaterials,
  findMaterial,
  type MaterialKind,
  standard,
  standardLayout,
} from "./signals/index.ts";
export { type Checkpoint, checkpointFromJson, checkpointToJson } from "./train/checkpoint.ts";
export { evaluate, evaluateSources } from "./train/evaluate.ts";
export { createLoss, type Loss, type LossConfig } from "./train/losses/index.ts";
export { Adam, clipGradientNorm } from "./train/optimizer.ts";
export { Schedule, type ScheduleConfig } from "./train/schedule.ts";
export { type TrainEvent, type TrainOptions, type TrainResult, train } from "./train/trainer.ts";
