/** deepsp's Node-only API: files (atomic writes), checkpoints, external tools, material, training threads. */
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
