/**
 * Training losses: MSE, L1, ESR, DC, multi-resolution STFT, weighted sums; every one with `maskFirst` and an
 * optional pre-emphasis filter. Build them from JSON configs with `createLoss`.
 */
export {
  dcBackward,
  dcForward,
  esrBackward,
  esrForward,
  l1Backward,
  l1Forward,
  mseBackward,
  mseForward,
} from "./basic.ts";
export { createLoss } from "./combine.ts";
export {
  aWeightingFilter,
  aWeightingTaps,
  type FirFilter,
  firBackward,
  firForward,
  foldedDifferentiatorFilter,
  highpassFilter,
  leastSquaresLinearPhaseFir,
} from "./filters.ts";
export { DEFAULT_RESOLUTIONS, MultiResolutionStft, type StftResolution, stftFrameCount } from "./stft.ts";
export type {
  DcConfig,
  EsrConfig,
  L1Config,
  Loss,
  LossConfig,
  LossShape,
  LossType,
  MrStftConfig,
  MseConfig,
  PreEmphasisConfig,
  SumConfig,
  SumTermConfig,
} from "./types.ts";
