import { OptionError } from "../../core/errors.ts";
import type { LossConfig } from "../../train/losses/index.ts";
import type { ScheduleConfig } from "../../train/schedule.ts";
import { createModel, type ModelConfig, type WavenetLayerArrayConfig } from "./registry.ts";

/** How a preset is best trained: what `deepsp train --preset` uses unless told otherwise. */
export interface TrainingDefaults {
  loss: LossConfig;
  learningRate: number;
  schedule: ScheduleConfig;
  /** Target samples per training window (NAM's "ny"). */
  windowLength: number;
  batchSize: number;
  /** Recurrent models: samples run without gradient before the loss starts (NAM: 4096). */
  burnIn?: number;
  /** Recurrent models: cut the gradient every this many samples (NAM: 512). */
  truncate?: number;
}

export interface Preset {
  name: string;
  description: string;
  model: ModelConfig;
  training: TrainingDefaults;
}

const TWO_TO_THE = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => 2 ** (from + i));

/**
 * Loss presets per family. Recurrent: ESR on the high-pass pre-emphasised signal plus DC (Wright et al. 2019,
 * 2020; the burn-in region masked). Convolutional: MSE plus a small pre-emphasised multi-resolution STFT term
 * (NAM's trainer: weight 2e-4, coefficient 0.85). Linear: pre-emphasised ESR (FIR_TRAINING). MLP and the study's conv net: MSE, as the study used.
 */
/** The trainer masks the burn-in itself (the loss's maskFirst = burnIn), whatever --burn-in says. */
const RECURRENT_LOSS: LossConfig = {
  type: "sum",
  terms: [
    { weight: 1, loss: { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.85 } } },
    { weight: 1, loss: { type: "dc" } },
  ],
};
const CONV_LOSS: LossConfig = {
  type: "sum",
  terms: [
    { weight: 1, loss: { type: "mse" } },
    { weight: 2e-4, loss: { type: "mrstft", preEmphasis: { type: "highpass", coefficient: 0.85 } } },
  ],
};
const MSE: LossConfig = { type: "mse" };
/**
 * FIR filters: least squares is convex but ill-conditioned under plain MSE, because a filter's stop band
 * carries almost no target energy; pre-emphasised ESR (0.95) weights the highs up, and halving the rate after
 * every epoch that does not improve settles the taps whatever the epoch length (a fixed decay per epoch
 * starves short epochs: 0.8 per epoch froze a 1 kHz low-pass on 30 s of sweeps at ESR 0.12). Measured on the
 * demo's 1 kHz 4th-order low-pass, 10 epochs: validation ESR 1.2e-5 (MSE, constant lr 0.002: 5.7e-2 after 15).
 */
const FIR_TRAINING: TrainingDefaults = {
  loss: { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.95 } },
  learningRate: 0.005,
  schedule: { type: "plateau", factor: 0.5, patience: 0, minLearningRate: 1e-6 },
  windowLength: 4096,
  batchSize: 16,
};
/** NAM's WaveNet schedule: Adam lr 0.004, exponential decay 0.993 per epoch. */
const NAM_CONV: Omit<TrainingDefaults, "loss"> = {
  learningRate: 0.004,
  schedule: { type: "exponential", gamma: 0.993 },
  windowLength: 8192,
  batchSize: 16,
};

/**
 * `inputSkip` adds the input to the output (Wright et al.; AIDA-X's in_skip). NAM's LSTM has none, so the
 * "-nam" presets leave it out to export to .nam (NAM trainer's LSTM config: no skip).
 */
function recurrent(cell: "lstm" | "gru", hidden: number, layers = 1, inputSkip = true): Preset {
  return {
    name: `${cell}-${hidden}${layers > 1 ? `x${layers}` : ""}${inputSkip ? "" : "-nam"}`,
    description: `${cell.toUpperCase()} ${layers > 1 ? `${layers} layers of ` : ""}${hidden} units, linear head, ${inputSkip ? "input skip" : "no input skip: exports to .nam"}`,
    model: { architecture: cell, hidden, layers, channels: 1, inputSkip },
    training: {
      loss: RECURRENT_LOSS,
      learningRate: 0.01,
      schedule: { type: "exponential", gamma: 0.995 },
      windowLength: 8192,
      batchSize: 16,
      burnIn: 4096,
      truncate: 512,
    },
  };
}

/** NAM's A1 WaveNet shapes (nam/train/core.py get_wavenet_config): two layer arrays, tanh, head scale 0.02. */
function namWavenet(
  name: string,
  first: number,
  second: number,
  secondHead: number,
  dilations: [number[], number[]],
): Preset {
  const array = (
    inputSize: number,
    channels: number,
    headSize: number,
    headBias: boolean,
    d: number[],
  ): WavenetLayerArrayConfig => ({
    inputSize,
    conditionSize: 1,
    channels,
    headSize,
    kernelSize: 3,
    dilations: d,
    activation: "tanh",
    gated: false,
    headBias,
  });
  return {
    name: `wavenet-${name}`,
    description: `NAM's "${name}" WaveNet: ${first} + ${second} channels, kernel 3, exportable to .nam`,
    model: {
      architecture: "wavenet",
      layers: [
        array(1, first, second, false, dilations[0]),
        array(first, second, secondHead, true, dilations[1]),
      ],
      headScale: 0.02,
    },
    training: { loss: CONV_LOSS, ...NAM_CONV },
  };
}
const STANDARD_DILATIONS: [number[], number[]] = [TWO_TO_THE(0, 9), TWO_TO_THE(0, 9)];
const LITE_DILATIONS: [number[], number[]] = [TWO_TO_THE(0, 6), [...TWO_TO_THE(7, 9), ...TWO_TO_THE(0, 9)]];

export const PRESETS: readonly Preset[] = [
  {
    name: "linear-256",
    description: "256-tap FIR filter: the right model for a linear effect (EQ, low-pass)",
    model: { architecture: "linear", taps: 256, bias: true, channels: 1 },
    training: FIR_TRAINING,
  },
  {
    name: "linear-64",
    description: "64-tap FIR filter",
    model: { architecture: "linear", taps: 64, bias: true, channels: 1 },
    training: FIR_TRAINING,
  },
  {
    name: "mlp-study",
    description: "the study's fully connected regression: 256 samples -> 64 -> 64 -> 1, tanh",
    model: { architecture: "mlp", window: 256, hidden: [64, 64], activation: "tanh" },
    training: {
      loss: MSE,
      learningRate: 0.001,
      schedule: { type: "constant" },
      windowLength: 1024,
      batchSize: 16,
    },
  },
  {
    name: "seedconv-study",
    description: "the study's conv net: 50 filters of 50 taps, per-filter middle, tied transposed conv, relu",
    model: {
      architecture: "seedconv",
      filters: 50,
      kernelSize: 50,
      middle: "perFilter",
      tied: true,
      activation: "relu",
    },
    training: {
      loss: MSE,
      learningRate: 0.001,
      schedule: { type: "constant" },
      windowLength: 2048,
      batchSize: 16,
    },
  },
  {
    name: "seedconv-dense",
    description: "the study's conv net with a fully connected middle and tanh: 16 filters of 32 taps, tied",
    model: {
      architecture: "seedconv",
      filters: 16,
      kernelSize: 32,
      middle: "dense",
      tied: true,
      activation: "tanh",
    },
    training: {
      loss: MSE,
      learningRate: 0.003,
      schedule: { type: "constant" },
      windowLength: 2048,
      batchSize: 16,
    },
  },
  {
    name: "tcn-gated16",
    description: "gated TCN: 16 channels, 10 layers, kernel 3, dilations 1..512 (receptive field 2047)",
    model: {
      architecture: "tcn",
      channels: 1,
      width: 16,
      kernelSize: 3,
      dilations: TWO_TO_THE(0, 9),
      gated: true,
      activation: "tanh",
      padding: "valid",
    },
    training: { loss: CONV_LOSS, ...NAM_CONV },
  },
  {
    name: "tcn-small",
    description: "gated TCN: 8 channels, 8 layers, kernel 3, dilations 1..128 (receptive field 511)",
    model: {
      architecture: "tcn",
      channels: 1,
      width: 8,
      kernelSize: 3,
      dilations: TWO_TO_THE(0, 7),
      gated: true,
      activation: "tanh",
      padding: "valid",
    },
    training: { loss: CONV_LOSS, ...NAM_CONV, learningRate: 0.005, windowLength: 4096 },
  },
  namWavenet("standard", 16, 8, 1, STANDARD_DILATIONS),
  namWavenet("lite", 12, 6, 1, LITE_DILATIONS),
  namWavenet("feather", 8, 4, 1, LITE_DILATIONS),
  namWavenet("nano", 4, 2, 1, LITE_DILATIONS),
  recurrent("lstm", 8),
  recurrent("lstm", 16),
  recurrent("lstm", 24),
  recurrent("lstm", 32),
  recurrent("lstm", 96),
  recurrent("lstm", 8, 2),
  recurrent("lstm", 16, 1, false),
  recurrent("gru", 16),
  recurrent("gru", 32),
];

export function findPreset(name: string): Preset {
  const preset = PRESETS.find((candidate) => candidate.name === name);
  if (!preset) {
    throw new OptionError(
      "options/invalid",
      `unknown preset "${name}" (valid: ${PRESETS.map((p) => p.name).join(", ")})`,
    );
  }
  return preset;
}

/** A preset's size: parameter count and receptive field (built once to measure, for listings and docs). */
export function describePreset(preset: Preset): { parameters: number; receptiveField: number } {
  const model = createModel(preset.model);
  return { parameters: model.parameters.count, receptiveField: model.receptiveField };
}
