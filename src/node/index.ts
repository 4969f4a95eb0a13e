/**
 * deepsp's Node-only API: files (atomic writes), checkpoints, external tools, material, training threads.
 * Importing it lets training use the relaxed-SIMD (fused multiply-add) wasm kernels on Node 20 (./wasm.ts).
 */
import { enableRelaxedSimd } from "./wasm.ts";

enableRelaxedSimd();

export {
  checkpointSaver,
  readCheckpoint,
  readRunCheckpoint,
  removeTemporaryFiles,
  writeCheckpoint,
} from "./checkpoints.ts";
export {
  FileError,
  readFileBytes,
  readWavFile,
  writeFileAtomic,
  writeJsonFile,
  writeWavFile,
} from "./files.ts";
export { externalMaterials } from "./material/index.ts";
export { readModelFile, writeModelFile } from "./model-files.ts";
export { readAnyModel, readPlayableModel, writeNamFile, writeRtneuralFile } from "./model-io.ts";
export { createParallelGradients, defaultThreads } from "./parallel/gradients.ts";
export { findProgram, runTool } from "./tools.ts";
export { enableRelaxedSimd } from "./wasm.ts";
