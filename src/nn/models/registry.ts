import { z } from "zod";
import { OptionError } from "../../core/errors.ts";
import { parseOptions } from "../../core/options.ts";
import type { FloatType } from "../parameters.ts";
import { LinearModel } from "./linear.ts";
import { MlpModel } from "./mlp.ts";
import type { Model } from "./model.ts";
import { RnnModel } from "./rnn.ts";
import { SeedconvModel } from "./seedconv.ts";
import { TcnModel } from "./tcn.ts";
import { WavenetModel } from "./wavenet.ts";

/**
 * One registry of architectures, one way to build a model: createModel(config). Every config is plain JSON,
 * validated here (unknown fields and bad values rejected naming the field), and model.toConfig() returns it
 * with defaults filled, so createModel(model.toConfig()) rebuilds the same architecture.
 */
const positive = () => z.number().int().min(1);
const activation = z.enum([
  "identity",
  "tanh",
  "sigmoid",
  "relu",
  "leakyRelu",
  "softsign",
  "silu",
  "hardtanh",
]);

export const linearSchema = z.strictObject({
  architecture: z.literal("linear"),
  taps: positive().describe("FIR length in samples"),
  bias: z.boolean().default(true),
  channels: positive().default(1),
});

export const mlpSchema = z.strictObject({
  architecture: z.literal("mlp"),
  window: positive().default(256).describe("input samples per output sample"),
  hidden: z.array(positive()).default([64, 64]),
  activation: activation.default("tanh"),
});

export const seedconvSchema = z.strictObject({
  architecture: z.literal("seedconv"),
  filters: positive().default(50),
  kernelSize: positive().default(50),
  middle: z.enum(["dense", "perFilter", "none"]).default("dense"),
  tied: z.boolean().default(true),
  activation: activation.default("relu"),
});

export const tcnSchema = z.strictObject({
  architecture: z.literal("tcn"),
  channels: positive().default(1),
  width: positive().default(16),
  kernelSize: positive().default(3),
  dilations: z.array(positive()).min(1).default([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]),
  gated: z.boolean().default(true),
  activation: activation.default("tanh"),
  padding: z.enum(["valid", "causal"]).default("valid"),
});

/** One layer array of NAM's classic ("A1", .nam 0.5) WaveNet, field for field in camelCase. */
export const wavenetLayerArraySchema = z.strictObject({
  inputSize: positive(),
  conditionSize: positive().default(1),
  channels: positive(),
  headSize: positive(),
  kernelSize: positive(),
  dilations: z.array(positive()).min(1),
  activation: activation.default("tanh"),
  gated: z.boolean().default(false),
  headBias: z.boolean(),
});

export const wavenetSchema = z.strictObject({
  architecture: z.literal("wavenet"),
  layers: z.array(wavenetLayerArraySchema).min(1),
  headScale: z.number().default(0.02),
});

const rnnFields = {
  hidden: positive().describe("hidden units (8..96 is typical)"),
  layers: positive().default(1),
  channels: positive().default(1),
  inputSkip: z.boolean().default(true),
};
export const lstmSchema = z.strictObject({ architecture: z.literal("lstm"), ...rnnFields });
export const gruSchema = z.strictObject({ architecture: z.literal("gru"), ...rnnFields });

const schemas = {
  linear: linearSchema,
  mlp: mlpSchema,
  seedconv: seedconvSchema,
  tcn: tcnSchema,
  wavenet: wavenetSchema,
  lstm: lstmSchema,
  gru: gruSchema,
} as const;

export type Architecture = keyof typeof schemas;
export const ARCHITECTURES = Object.keys(schemas) as Architecture[];

export type LinearModelConfig = z.output<typeof linearSchema>;
export type MlpModelConfig = z.output<typeof mlpSchema>;
export type SeedconvModelConfig = z.output<typeof seedconvSchema>;
export type TcnModelConfig = z.output<typeof tcnSchema>;
export type WavenetLayerArrayConfig = z.output<typeof wavenetLayerArraySchema>;
export type WavenetModelConfig = z.output<typeof wavenetSchema>;
export type RnnModelConfig = z.output<typeof lstmSchema> | z.output<typeof gruSchema>;
export type ModelConfig =
  | LinearModelConfig
  | MlpModelConfig
  | SeedconvModelConfig
  | TcnModelConfig
  | WavenetModelConfig
  | RnnModelConfig;

/** Validates a model config (any JSON) and fills its defaults; OptionError naming the field otherwise. */
export function parseModelConfig(input: unknown, what = "model config"): ModelConfig {
  const architecture = (input as { architecture?: unknown } | null)?.architecture;
  if (typeof architecture !== "string" || !(architecture in schemas)) {
    throw new OptionError(
      "model/unknown-architecture",
      `${what}: architecture must be one of ${ARCHITECTURES.join(", ")}, got ${JSON.stringify(architecture)}`,
    );
  }
  return parseOptions(
    schemas[architecture as Architecture],
    input,
    `${what} (${architecture})`,
  ) as ModelConfig;
}

/** Builds a model from a config; parameters initialised from `seed` (PyTorch-style defaults per layer). */
export function createModel(input: unknown, options: { seed?: number; floatType?: FloatType } = {}): Model {
  const config = parseModelConfig(input);
  switch (config.architecture) {
    case "linear":
      return new LinearModel(config, options);
    case "mlp":
      return new MlpModel(config, options);
    case "seedconv":
      return new SeedconvModel(config, options);
    case "tcn":
      return new TcnModel(config, options);
    case "wavenet":
      return new WavenetModel(config, options);
    case "lstm":
    case "gru":
      return new RnnModel({ ...config, cell: config.architecture }, options);
  }
}
