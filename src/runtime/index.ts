export {
  createStreamProcessor,
  MAX_BLOCK_LIMIT,
  type ProcessWholeOptions,
  processWhole,
  type StreamFault,
  type StreamProcessor,
  type StreamProcessorOptions,
} from "./processor.ts";
