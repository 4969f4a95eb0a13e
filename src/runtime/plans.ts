import { DeepspError } from "../core/errors.ts";
import type { ActivationKind } from "../nn/kernels/types.ts";
import type { Model } from "../nn/models/model.ts";
import { GraphCore, type Op, Signal } from "./graph.ts";
import { interleaveRecurrent } from "./kernels.ts";
import { RecurrentCore } from "./recurrent.ts";

/** One stream's worth of state for a model: what the processor runs (once per model-sized channel group). */
export interface Core {
  /** Channels this core reads and writes (the model's channels). */
  readonly channels: number;
  /** Allocates for blocks of up to maxBlock samples, puts the state before any audio in place and remembers it. */
  prepare(maxBlock: number): void;
  /** Back to the state `prepare` remembered. Never allocates. */
  restore(): void;
  /** Copies input[first + c][offset, offset + frames) in (before any core writes output: output may alias input). */
  ingest(input: readonly Float32Array[], first: number, offset: number, frames: number): void;
  /** Computes the block and writes output[first + c][offset, offset + frames). */
  render(output: Float32Array[], first: number, offset: number, frames: number): void;
}

/** What a model compiles to: its channel count and a factory of independent streams sharing the weights. */
export interface ModelPlan {
  architecture: string;
  channels: number;
  receptiveField: number;
  createCore(): Core;
}

type Config = { architecture: string } & Record<string, unknown>;

/** Reads a model's config (toConfig) and copies its weights into a plan for streaming. */
export function planModel(model: Model): ModelPlan {
  const config = model.toConfig() as Config;
  const weights = (name: string): Float32Array => Float32Array.from(model.parameters.value(name));
  const base = {
    architecture: config.architecture,
    channels: model.channels,
    receptiveField: model.receptiveField,
  };
  const prewarm = model.recurrent ? 0 : model.receptiveField - 1;
  switch (config.architecture) {
    case "linear":
      return { ...base, createCore: linearPlan(config, weights, prewarm) };
    case "mlp":
      return { ...base, createCore: mlpPlan(config, weights, prewarm) };
    case "seedconv":
      return { ...base, createCore: seedconvPlan(config, weights, prewarm) };
    case "tcn":
      return { ...base, createCore: tcnPlan(config, weights, prewarm) };
    case "wavenet":
      return { ...base, createCore: wavenetPlan(config, weights, prewarm) };
    case "lstm":
    case "gru":
      return { ...base, createCore: recurrentPlan(config, model, weights) };
    default:
      throw new DeepspError(
        "runtime/unsupported-architecture",
        `the streaming runtime has no implementation for architecture "${config.architecture}"`,
      );
  }
}

type Weights = (name: string) => Float32Array;

function num(config: Config, field: string): number {
  const value = config[field];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new DeepspError(
      "runtime/config",
      `${config.architecture}: config field ${field} must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function conv(
  src: Signal,
  dst: Signal,
  weight: Float32Array,
  bias: Float32Array | null,
  kernelSize = 1,
  dilation = 1,
  groups = 1,
  accumulate = false,
): Op {
  const outChannels = dst.channels;
  const inChannels = src.channels;
  if (
    weight.length !== (outChannels * inChannels * kernelSize) / groups ||
    (bias && bias.length !== outChannels)
  ) {
    throw new DeepspError(
      "runtime/plan",
      `conv ${inChannels} -> ${outChannels} (kernel ${kernelSize}): weight shape mismatch`,
    );
  }
  return {
    kind: "conv",
    src,
    dst,
    weight,
    bias,
    inChannels,
    outChannels,
    kernelSize,
    dilation,
    groups,
    accumulate,
  };
}

function activate(signal: Signal, activation: ActivationKind, channels = signal.channels): Op {
  return { kind: "activate", signal, channels, activation };
}

/**
 * linear: an FIR over a history of taps - 1 input samples, every output channel summing every input channel
 * (fir.weight [C, C, taps], fir.bias).
 */
function linearPlan(config: Config, weights: Weights, prewarm: number): () => Core {
  const taps = num(config, "taps");
  const channels = num(config, "channels");
  const weight = weights("fir.weight");
  const bias = config.bias === false ? null : weights("fir.bias");
  return () => {
    const x = new Signal(channels, taps - 1);
    const y = new Signal(channels, 0);
    return new GraphCore({
      channels,
      input: x,
      output: y,
      signals: [x, y],
      ops: [conv(x, y, weight, bias, taps)],
      prewarm,
    });
  };
}

/**
 * mlp: the first dense layer over the last `window` samples is a conv with kernel `window`
 * (layers.0.weight [h0, window] is [h0, 1, window] in conv layout); the other dense layers are 1x1 convs.
 */
function mlpPlan(config: Config, weights: Weights, prewarm: number): () => Core {
  const window = num(config, "window");
  const hidden = (config.hidden as number[]).slice();
  const activation = config.activation as ActivationKind;
  const widths = [...hidden, 1];
  const layers = widths.map((_, i) => ({
    weight: weights(`layers.${i}.weight`),
    bias: weights(`layers.${i}.bias`),
  }));
  return () => {
    const x = new Signal(1, window - 1);
    const signals = [x];
    const ops: Op[] = [];
    let src = x;
    widths.forEach((width, i) => {
      const dst = new Signal(width, 0);
      signals.push(dst);
      ops.push(conv(src, dst, layers[i]!.weight, layers[i]!.bias, i === 0 ? window : 1));
      if (i + 1 < widths.length) ops.push(activate(dst, activation));
      src = dst;
    });
    return new GraphCore({ channels: 1, input: x, output: src, signals, ops, prewarm });
  };
}

/**
 * seedconv: conv (1 -> F, kernel K) -> activation -> middle (1x1, dense or per filter) -> activation ->
 * transposed conv (F -> 1, kernel K). The training model keeps the transposed conv's full-output samples
 * [K - 1, L - K + 1), where out[j] = sum_{f,k} w[f, 0, k] h[f, j + K - 1 - k]: at stream time t that is a causal
 * conv over h's last K samples with the taps reversed. Receptive field 2K - 1, no lookahead.
 */
function seedconvPlan(config: Config, weights: Weights, prewarm: number): () => Core {
  const filters = num(config, "filters");
  const kernelSize = num(config, "kernelSize");
  const middle = config.middle as "dense" | "perFilter" | "none";
  const activation = config.activation as ActivationKind;
  const convWeight = weights("conv.weight");
  const convBias = weights("conv.bias");
  const middleWeight = middle === "none" ? null : weights("middle.weight");
  const middleBias = middle === "none" ? null : weights("middle.bias");
  const transposed = config.tied === false ? weights("output.weight") : convWeight; // [F, 1, K]
  const reversed = new Float32Array(filters * kernelSize); // conv layout [1, F, K], taps reversed
  for (let f = 0; f < filters; f++) {
    for (let k = 0; k < kernelSize; k++)
      reversed[f * kernelSize + k] = transposed[f * kernelSize + kernelSize - 1 - k]!;
  }
  const outputBias = weights("output.bias");
  return () => {
    const x = new Signal(1, kernelSize - 1);
    const a = new Signal(filters, middle === "none" ? kernelSize - 1 : 0);
    const y = new Signal(1, 0);
    const signals = [x, a, y];
    const ops: Op[] = [conv(x, a, convWeight, convBias, kernelSize), activate(a, activation)];
    let features = a;
    if (middleWeight) {
      const m = new Signal(filters, kernelSize - 1);
      signals.push(m);
      ops.push(
        conv(a, m, middleWeight, middleBias, 1, 1, middle === "perFilter" ? filters : 1),
        activate(m, activation),
      );
      features = m;
    }
    ops.push(conv(features, y, reversed, outputBias, kernelSize));
    return new GraphCore({ channels: 1, input: x, output: y, signals, ops, prewarm });
  };
}

/**
 * tcn: input 1x1 -> per dilation: dilated conv over that layer's history, gate (or activation), skip sum +=,
 * 1x1 residual added to the layer's input -> head 1x1 from the skip sum. The last layer's residual feeds
 * nothing and is not computed. 'causal' padding: zero histories (no prewarm), as the padded training convs.
 */
function tcnPlan(config: Config, weights: Weights, prewarm: number): () => Core {
  const channels = num(config, "channels");
  const width = num(config, "width");
  const kernelSize = num(config, "kernelSize");
  const dilations = (config.dilations as number[]).slice();
  const gated = config.gated !== false;
  const activation = config.activation as ActivationKind;
  const input = { weight: weights("input.weight"), bias: weights("input.bias") };
  const layers = dilations.map((_, i) => ({
    conv: weights(`layers.${i}.conv.weight`),
    convBias: weights(`layers.${i}.conv.bias`),
    residual: weights(`layers.${i}.residual.weight`),
    residualBias: weights(`layers.${i}.residual.bias`),
  }));
  const head = { weight: weights("head.weight"), bias: weights("head.bias") };
  return () => {
    const x = new Signal(channels, 0);
    const hs = dilations.map((d) => new Signal(width, (kernelSize - 1) * d));
    const z = new Signal(gated ? 2 * width : width, 0);
    const g = gated ? new Signal(width, 0) : z;
    const skip = new Signal(width, 0);
    const y = new Signal(channels, 0);
    const signals = [x, ...hs, z, skip, y];
    if (gated) signals.push(g);
    const ops: Op[] = [conv(x, hs[0]!, input.weight, input.bias), { kind: "zero", signal: skip }];
    dilations.forEach((dilation, i) => {
      const layer = layers[i]!;
      ops.push(conv(hs[i]!, z, layer.conv, layer.convBias, kernelSize, dilation));
      if (gated) {
        ops.push(activate(z, "tanh", width), { kind: "gate", src: z, dst: g, channels: width });
      } else {
        ops.push(activate(z, activation));
      }
      ops.push({ kind: "add", dst: skip, src: g, channels: width });
      const next = hs[i + 1];
      if (next) {
        ops.push(conv(g, next, layer.residual, layer.residualBias), {
          kind: "add",
          dst: next,
          src: hs[i]!,
          channels: width,
        });
      }
    });
    ops.push(conv(skip, y, head.weight, head.bias));
    return new GraphCore({ channels, input: x, output: y, signals, ops, prewarm });
  };
}

interface WavenetArrayConfig {
  inputSize: number;
  conditionSize: number;
  channels: number;
  headSize: number;
  kernelSize: number;
  dilations: number[];
  activation: ActivationKind;
  gated: boolean;
  headBias: boolean;
}

/**
 * wavenet (NAM's classic layout): per layer array, rechannel 1x1 (no bias) -> per dilation: z = dilated conv of
 * the layer's history + mixer 1x1 of the condition (the model input); a = activation (or gate); head sum += a;
 * y = y + output 1x1 (a) -> head 1x1 of the head sum into the next array's head sum (or the output), times
 * headScale at the end. The last array's last output 1x1 feeds nothing and is not computed.
 */
function wavenetPlan(config: Config, weights: Weights, prewarm: number): () => Core {
  const arrays = (config.layers as WavenetArrayConfig[]).map((array) => ({
    ...array,
    dilations: array.dilations.slice(),
  }));
  const headScale = num(config, "headScale");
  const tensors = arrays.map((array, i) => ({
    rechannel: weights(`layers.${i}.rechannel.weight`),
    layers: array.dilations.map((_, j) => ({
      conv: weights(`layers.${i}.layers.${j}.conv.weight`),
      convBias: weights(`layers.${i}.layers.${j}.conv.bias`),
      mixer: weights(`layers.${i}.layers.${j}.mixer.weight`),
      output: weights(`layers.${i}.layers.${j}.output.weight`),
      outputBias: weights(`layers.${i}.layers.${j}.output.bias`),
    })),
    head: weights(`layers.${i}.head.weight`),
    headBias: array.headBias ? weights(`layers.${i}.head.bias`) : null,
  }));
  const channels = arrays[0]!.inputSize;
  return () => {
    const x = new Signal(channels, 0);
    const signals = [x];
    const ops: Op[] = [];
    let y = x; // the array's input
    let headSum = new Signal(arrays[0]!.channels, 0);
    signals.push(headSum);
    ops.push({ kind: "zero", signal: headSum });
    arrays.forEach((array, i) => {
      const { kernelSize, dilations, gated, activation } = array;
      const width = array.channels;
      const last = i === arrays.length - 1;
      const hs = dilations.map((d) => new Signal(width, (kernelSize - 1) * d));
      const z = new Signal(gated ? 2 * width : width, 0);
      const a = gated ? new Signal(width, 0) : z;
      signals.push(...hs, z);
      if (gated) signals.push(a);
      const t = tensors[i]!;
      ops.push(conv(y, hs[0]!, t.rechannel, null));
      dilations.forEach((dilation, j) => {
        const layer = t.layers[j]!;
        ops.push(
          conv(hs[j]!, z, layer.conv, layer.convBias, kernelSize, dilation),
          conv(x, z, layer.mixer, null, 1, 1, 1, true),
        );
        if (gated) {
          ops.push(activate(z, activation, width), { kind: "gate", src: z, dst: a, channels: width });
        } else {
          ops.push(activate(z, activation));
        }
        ops.push({ kind: "add", dst: headSum, src: a, channels: width });
        const lastLayer = j === dilations.length - 1;
        if (last && lastLayer) return;
        // y_{j+1} = y_j + output(a): into the next layer's history, or the array's output block.
        const next = lastLayer ? new Signal(width, 0) : hs[j + 1]!;
        if (lastLayer) {
          signals.push(next);
          y = next;
        }
        ops.push(conv(a, next, layer.output, layer.outputBias), {
          kind: "add",
          dst: next,
          src: hs[j]!,
          channels: width,
        });
      });
      const headOut = new Signal(array.headSize, 0);
      signals.push(headOut);
      ops.push(conv(headSum, headOut, t.head, t.headBias));
      headSum = headOut;
    });
    ops.push({ kind: "scale", signal: headSum, scale: Float64Array.of(headScale) });
    return new GraphCore({ channels, input: x, output: headSum, signals, ops, prewarm });
  };
}

/** lstm / gru: rnn.<l>.weight_ih / weight_hh / bias_ih / bias_hh, head.weight [C, hidden, 1], head.bias. */
function recurrentPlan(config: Config, model: Model, weights: Weights): () => Core {
  const cell = config.architecture as "lstm" | "gru";
  const hidden = num(config, "hidden");
  const layerCount = num(config, "layers");
  const channels = model.channels;
  const layers: Float64Array[] = [];
  for (let l = 0; l < layerCount; l++) {
    const name = `rnn.${l}`;
    layers.push(
      interleaveRecurrent(
        cell,
        weights(`${name}.weight_ih`),
        weights(`${name}.weight_hh`),
        weights(`${name}.bias_ih`),
        weights(`${name}.bias_hh`),
        l === 0 ? channels : hidden,
        hidden,
      ),
    );
  }
  const plan = {
    cell,
    channels,
    hidden,
    layers,
    headWeight: weights("head.weight"),
    headBias: weights("head.bias"),
    inputSkip: config.inputSkip !== false,
  };
  return () => new RecurrentCore(plan);
}
