/**
 * Conversion between NAM's classic ("A1", .nam version 0.5.x) WaveNet and deepsp's WavenetModel: the
 * `config` and `weights` fields of a .nam file whose `architecture` is "WaveNet". Platform-neutral: the
 * caller reads and parses the file.
 *
 * NAM config (snake_case, as nam/models/wavenet.py exports it):
 *   { "layers": [{ "input_size", "condition_size", "head_size", "channels", "kernel_size", "dilations",
 *                  "activation", "gated", "head_bias" }, ...], "head": null, "head_scale": 0.02 }
 * Later NAM versions ("A2") add per-layer fields (kernel_sizes, gating_mode, bottleneck, head1x1, FiLM, groups,
 * slimmable...), a post-stack "head" and a "condition_dsp": those are refused here, naming the field.
 *
 * NAM weights: one flat list, per layer array: rechannel.weight; per layer: conv.weight, conv.bias,
 * input_mixer.weight, 1x1.weight, 1x1.bias; head_rechannel.weight (+ bias with head_bias); then head_scale as
 * the last number. Conv weights flatten [out][in][k] (PyTorch's Conv1d layout; the NAM core reads them the same
 * way in Conv1D::set_weights_), which is also deepsp's layout, so each tensor copies straight across.
 */
import { DeepspError } from "../../core/errors.ts";
import type { ActivationKind } from "../../nn/kernels/types.ts";
import type { WavenetLayerArrayConfig, WavenetModelConfig } from "../../nn/models/registry.ts";
import { validateWavenetConfig, wavenetParameterShapes } from "../../nn/models/wavenet.ts";
import type { Parameters } from "../../nn/parameters.ts";

/** One layer array of a classic NAM WaveNet config. */
export interface NamA1LayerArrayConfig {
  input_size: number;
  condition_size: number;
  head_size: number;
  channels: number;
  kernel_size: number;
  dilations: number[];
  /** PyTorch activation class name: "Tanh", "ReLU", "LeakyReLU", "Sigmoid", "Softsign", "SiLU", "Hardtanh". */
  activation: string;
  gated: boolean;
  head_bias: boolean;
}

/** The `config` of a classic NAM WaveNet .nam file. */
export interface NamA1WavenetConfig {
  layers: NamA1LayerArrayConfig[];
  head: null;
  head_scale: number;
}

/** NAM (PyTorch) activation names and ours. NAM has no identity activation. LeakyReLU's slope is 0.01 in both. */
const FROM_NAM: Readonly<Record<string, ActivationKind>> = {
  Tanh: "tanh",
  ReLU: "relu",
  LeakyReLU: "leakyRelu",
  Sigmoid: "sigmoid",
  Softsign: "softsign",
  SiLU: "silu",
  Hardtanh: "hardtanh",
};
const TO_NAM: Readonly<Partial<Record<ActivationKind, string>>> = Object.fromEntries(
  Object.entries(FROM_NAM).map(([nam, ours]) => [ours, nam]),
);

const ARRAY_FIELDS = [
  "input_size",
  "condition_size",
  "head_size",
  "channels",
  "kernel_size",
  "dilations",
  "activation",
  "gated",
  "head_bias",
] as const;
const TOP_FIELDS = ["layers", "head", "head_scale"] as const;

/** code "nam/unsupported": a valid NAM feature deepsp cannot express (the file needs NAM's own player). */
function configError(message: string, code = "nam/config"): never {
  throw new DeepspError(code, `NAM WaveNet config: ${message}`);
}

/**
 * A classic NAM WaveNet config (the parsed `config` of a .nam file) as a deepsp WavenetModelConfig. Refuses,
 * naming the field, anything outside the classic subset (A2 fields, a post-stack head, a condition DSP,
 * an unknown activation) and arrays that do not chain.
 *
 * headScale: the NAM core plays a file with the LAST WEIGHT as its head scale (the config's `head_scale` is
 * informational there). Pass the file's `weights` to follow the core: headScale is then the config's value when
 * it agrees with the last weight at float32 precision (0.02, not 0.0199999995...), else the last weight.
 */
export function modelConfigFromNamA1(config: unknown, weights?: readonly number[]): WavenetModelConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config))
    configError(`expected an object, got ${JSON.stringify(config)}`);
  const top = config as Record<string, unknown>;
  const extra = Object.keys(top).filter((key) => !(TOP_FIELDS as readonly string[]).includes(key));
  if (extra.length > 0) {
    configError(
      `unsupported field(s) ${extra.map((key) => `"${key}"`).join(", ")}: only the classic (A1, .nam 0.5) WaveNet is supported (fields: ${TOP_FIELDS.join(", ")})`,
      "nam/unsupported",
    );
  }
  if (top["head"] !== null && top["head"] !== undefined)
    configError(
      `"head" must be null (a post-stack head is not supported), got ${JSON.stringify(top["head"])}`,
      "nam/unsupported",
    );
  const layers = top["layers"];
  if (!Array.isArray(layers) || layers.length === 0)
    configError(`"layers" must be a non-empty array of layer arrays, got ${JSON.stringify(layers)}`);
  const arrays = layers.map((layer, i) => layerArrayFromNam(layer, i));
  const headScale = headScaleFrom(top["head_scale"], weights);
  const result: WavenetModelConfig = { architecture: "wavenet", layers: arrays, headScale };
  try {
    validateWavenetConfig(result);
  } catch (error) {
    configError((error as Error).message.replace(/^wavenet: /, ""));
  }
  return result;
}

function headScaleFrom(value: unknown, weights: readonly number[] | undefined): number {
  const last = weights && weights.length > 0 ? weights[weights.length - 1]! : undefined;
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value)))
    configError(`"head_scale" must be a finite number, got ${JSON.stringify(value)}`);
  if (last !== undefined && !Number.isFinite(last))
    configError(`the last weight (head_scale) must be a finite number, got ${last}`);
  if (last === undefined) {
    if (value === undefined)
      configError(`"head_scale" is missing (and no weights were given to read it from)`);
    return value as number;
  }
  return value !== undefined && Math.fround(value as number) === Math.fround(last) ? (value as number) : last;
}

function layerArrayFromNam(input: unknown, i: number): WavenetLayerArrayConfig {
  const where = `layers[${i}]`;
  if (input === null || typeof input !== "object" || Array.isArray(input))
    configError(`${where}: expected an object, got ${JSON.stringify(input)}`);
  const layer = input as Record<string, unknown>;
  const extra = Object.keys(layer).filter((key) => !(ARRAY_FIELDS as readonly string[]).includes(key));
  if (extra.length > 0) {
    configError(
      `${where}: unsupported field(s) ${extra.map((key) => `"${key}"`).join(", ")} (A2 WaveNet features are not supported; classic fields: ${ARRAY_FIELDS.join(", ")})`,
      "nam/unsupported",
    );
  }
  const whole = (field: string): number => {
    const value = layer[field];
    if (!(typeof value === "number" && Number.isInteger(value) && value >= 1))
      configError(`${where}.${field}: expected a whole number >= 1, got ${JSON.stringify(value)}`);
    return value;
  };
  const flag = (field: string): boolean => {
    const value = layer[field];
    if (typeof value !== "boolean")
      configError(`${where}.${field}: expected true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  const dilations = layer["dilations"];
  if (!Array.isArray(dilations) || dilations.length === 0)
    configError(
      `${where}.dilations: expected a non-empty array of whole numbers >= 1, got ${JSON.stringify(dilations)}`,
    );
  dilations.forEach((d, j) => {
    if (!(typeof d === "number" && Number.isInteger(d) && d >= 1))
      configError(`${where}.dilations[${j}]: expected a whole number >= 1, got ${JSON.stringify(d)}`);
  });
  return {
    inputSize: whole("input_size"),
    conditionSize: whole("condition_size"),
    channels: whole("channels"),
    headSize: whole("head_size"),
    kernelSize: whole("kernel_size"),
    dilations: [...(dilations as number[])],
    activation: activationFromNam(layer["activation"], `${where}.activation`),
    gated: flag("gated"),
    headBias: flag("head_bias"),
  };
}

/** "Tanh" -> "tanh", ...; also the object form { "type": "LeakyReLU", "negative_slope": 0.01 } with default parameters. */
function activationFromNam(value: unknown, where: string): ActivationKind {
  let name = value;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const { type, ...rest } = value as Record<string, unknown>;
    const defaults =
      type === "LeakyReLU" && (rest["negative_slope"] === undefined || rest["negative_slope"] === 0.01);
    if (Object.keys(rest).length > 0 && !defaults)
      configError(
        `${where}: activation parameters ${JSON.stringify(rest)} are not supported`,
        "nam/unsupported",
      );
    name = type;
  }
  if (typeof name !== "string" || !Object.hasOwn(FROM_NAM, name)) {
    configError(
      `${where}: unknown activation ${JSON.stringify(name)} (supported: ${Object.keys(FROM_NAM).join(", ")})`,
      "nam/unsupported",
    );
  }
  return FROM_NAM[name]!;
}

/** A deepsp WavenetModelConfig as a classic NAM WaveNet config (field order as NAM exports it). */
export function namA1ConfigFromModel(config: WavenetModelConfig): NamA1WavenetConfig {
  validateWavenetConfig(config);
  return {
    layers: config.layers.map((array, i) => {
      const activation = TO_NAM[array.activation];
      if (activation === undefined) {
        throw new DeepspError(
          "nam/export",
          `wavenet layer array ${i}: activation "${array.activation}" has no NAM equivalent (NAM supports: ${Object.values(FROM_NAM).join(", ")})`,
        );
      }
      return {
        input_size: array.inputSize,
        condition_size: array.conditionSize,
        head_size: array.headSize,
        channels: array.channels,
        kernel_size: array.kernelSize,
        dilations: [...array.dilations],
        activation,
        gated: array.gated,
        head_bias: array.headBias,
      };
    }),
    head: null,
    head_scale: config.headScale,
  };
}

/** Tensors in NAM order, checked against the parameters' own shapes; returns them and their total size. */
function namTensors(parameters: Parameters, config: WavenetModelConfig): { names: string[]; size: number } {
  const names: string[] = [];
  let size = 0;
  for (const { name, shape } of wavenetParameterShapes(config)) {
    const entry = parameters.entry(name);
    if (entry.shape.length !== shape.length || entry.shape.some((d, k) => d !== shape[k])) {
      throw new DeepspError(
        "nam/shape",
        `WaveNet tensor ${name}: the config needs shape [${shape.join(", ")}], the parameters have [${entry.shape.join(", ")}]`,
      );
    }
    names.push(name);
    size += entry.size;
  }
  return { names, size };
}

/**
 * Fills a WavenetModel's parameters from a classic .nam weight list (its last value is head_scale, which must
 * agree with config.headScale at float32 precision: build the config with modelConfigFromNamA1(config, weights)).
 * Throws, naming both counts, when the list does not have exactly one value per tensor element plus head_scale.
 */
export function setParametersFromNamA1Weights(
  parameters: Parameters,
  config: WavenetModelConfig,
  weights: readonly number[],
): void {
  const { names, size } = namTensors(parameters, config);
  if (weights.length !== size + 1) {
    throw new DeepspError(
      "nam/weight-count",
      `NAM WaveNet weights: expected ${size + 1} (${size} tensor values + head_scale), got ${weights.length}`,
    );
  }
  for (let k = 0; k < weights.length; k++) {
    if (typeof weights[k] !== "number" || !Number.isFinite(weights[k]))
      throw new DeepspError(
        "nam/weights",
        `NAM WaveNet weights[${k}]: expected a finite number, got ${weights[k]}`,
      );
  }
  const headScale = weights[size]!;
  if (Math.fround(headScale) !== Math.fround(config.headScale)) {
    throw new DeepspError(
      "nam/weights",
      `NAM WaveNet weights: the last weight (head_scale, which the NAM core uses) is ${headScale} but the config's headScale is ${config.headScale}; build the config with modelConfigFromNamA1(config, weights)`,
    );
  }
  let offset = 0;
  for (const name of names) {
    const values = parameters.value(name);
    for (let k = 0; k < values.length; k++) values[k] = weights[offset + k]!;
    offset += values.length;
  }
}

/**
 * A WavenetModel's parameters as a classic .nam weight list: every tensor in NAM's order, then head_scale
 * (rounded to float32, as NAM's PyTorch export writes every weight).
 */
export function namA1WeightsFromParameters(parameters: Parameters, config: WavenetModelConfig): number[] {
  const { names, size } = namTensors(parameters, config);
  const weights = new Array<number>(size + 1);
  let offset = 0;
  for (const name of names) {
    const values = parameters.value(name);
    for (let k = 0; k < values.length; k++) weights[offset + k] = values[k]!;
    offset += values.length;
  }
  weights[size] = Math.fround(config.headScale);
  return weights;
}
