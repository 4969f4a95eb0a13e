import { Signal } from "../../../runtime/graph.ts";
import { convBlock, copySamples } from "../../../runtime/kernels.ts";
import type { NamFile } from "../file.ts";
import { activateRows, checkActivationChannels, type NamActivation, parseActivation } from "./activations.ts";
import {
  advanceSignals,
  beginSignals,
  clearSignals,
  DspBase,
  type NamModel,
  readWeights,
  restoreSignals,
  saveSignals,
} from "./dsp.ts";
import { ConfigFields, checkGroups } from "./fields.ts";

interface ConvNetBlock {
  inChannels: number;
  dilation: number;
  /** [channels, inChannels / groups, 2] */
  w: Float32Array;
  /** [channels], or null with batch norm (the conv then has no bias). */
  b: Float32Array | null;
  /** Batch norm folded to y = scale * x + loc, [channels] each; null without batch norm. */
  scale: Float32Array | null;
  loc: Float32Array | null;
}

interface ConvNetWeights {
  inChannels: number;
  outChannels: number;
  channels: number;
  groups: number;
  activation: NamActivation;
  blocks: ConvNetBlock[];
  /** [outChannels, channels] */
  headW: Float32Array;
  /** [outChannels] */
  headB: Float32Array;
}

/**
 * ConvNet (NAM/convnet.cpp): per dilation a block conv (kernel 2) -> batch norm (optional) -> activation, then a
 * 1x1 head with bias. Weights per block: conv [channels, in / groups, 2], its bias (only without batch norm), then
 * batch norm's running_mean, running_var, weight, bias [channels] each and eps; then head W [out, channels], b [out].
 */
export function loadConvNet(file: NamFile): NamModel {
  const fields = ConfigFields.of(file.config, `${file.source}: config`);
  const channels = fields.int("channels");
  const dilations = fields.ints("dilations");
  const batchnorm = fields.bool("batchnorm");
  const activation = parseActivation(fields.raw("activation"), fields.at("activation"));
  const groups = fields.int("groups", 1);
  const inChannels = fields.int("in_channels", 1);
  const outChannels = fields.int("out_channels", 1);
  fields.finish();
  checkActivationChannels(activation, channels, false, fields.at("activation"));
  checkGroups(fields.at("groups"), groups, inChannels, channels);
  checkGroups(fields.at("groups"), groups, channels, channels);
  const weights = readWeights(file, (reader): ConvNetWeights => {
    const blocks = dilations.map((dilation, i): ConvNetBlock => {
      const blockIn = i === 0 ? inChannels : channels;
      const name = `ConvNet block ${i}`;
      const w = reader.take((channels * blockIn * 2) / groups, `${name} conv weights`);
      const b = batchnorm ? null : reader.take(channels, `${name} conv bias`);
      if (!batchnorm) return { inChannels: blockIn, dilation, w, b, scale: null, loc: null };
      const mean = reader.take(channels, `${name} batch norm running_mean`);
      const variance = reader.take(channels, `${name} batch norm running_var`);
      const weight = reader.take(channels, `${name} batch norm weight`);
      const bias = reader.take(channels, `${name} batch norm bias`);
      const eps = Math.fround(reader.next(`${name} batch norm eps`));
      // convnet.cpp BatchNorm: scale = weight / sqrt(eps + var), loc = bias - scale * mean.
      const scale = weight.map((wc, c) => wc / Math.sqrt(eps + variance[c]!));
      const loc = bias.map((bc, c) => bc - scale[c]! * mean[c]!);
      return { inChannels: blockIn, dilation, w, b, scale, loc };
    });
    return {
      inChannels,
      outChannels,
      channels,
      groups,
      activation,
      blocks,
      headW: reader.take(outChannels * channels, "the head weights"),
      headB: reader.take(outChannels, "the head bias"),
    };
  });
  return { architecture: "ConvNet", create: () => new ConvNetDsp(weights, file.sampleRate) };
}

class ConvNetDsp extends DspBase {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly prewarmSamples: number;
  readonly receptiveField: number;
  private readonly w: ConvNetWeights;
  /** Block i's input, with dilation_i samples of history. */
  private readonly inputs: Signal[];
  /** The last block's output. */
  private readonly last: Signal;
  private readonly signals: Signal[];

  constructor(weights: ConvNetWeights, sampleRate: number | null) {
    super(sampleRate);
    this.w = weights;
    this.inChannels = weights.inChannels;
    this.outChannels = weights.outChannels;
    // convnet.cpp: 1 + the sum of the dilations (each block's kernel is 2).
    this.receptiveField = 1 + weights.blocks.reduce((sum, block) => sum + block.dilation, 0);
    this.prewarmSamples = this.receptiveField;
    this.inputs = weights.blocks.map((block) => new Signal(block.inChannels, block.dilation));
    this.last = new Signal(weights.channels, 0);
    this.signals = [...this.inputs, this.last];
  }

  protected allocate(maxBlock: number): void {
    for (const signal of this.signals) signal.allocate(maxBlock);
  }

  process(input: Float32Array, output: Float32Array, frames: number): void {
    const { w, inputs, maxBlock } = this;
    beginSignals(this.signals, frames);
    const x = inputs[0]!;
    for (let c = 0; c < w.inChannels; c++)
      copySamples(x.data, c * x.stride + x.pos, input, c * maxBlock, frames);
    for (let i = 0; i < w.blocks.length; i++) {
      const block = w.blocks[i]!;
      const src = inputs[i]!;
      const dst = inputs[i + 1] ?? this.last;
      const at = src.pos - block.dilation;
      convBlock(
        dst.data,
        dst.pos,
        dst.stride,
        src.data,
        at,
        src.stride,
        block.w,
        block.b,
        block.inChannels,
        w.channels,
        2,
        block.dilation,
        w.groups,
        frames,
        false,
      );
      if (block.scale !== null) batchNorm(dst, block.scale, block.loc!, frames);
      activateRows(w.activation, dst.data, dst.pos, dst.stride, w.channels, frames);
    }
    const last = this.last;
    convBlock(
      output,
      0,
      maxBlock,
      last.data,
      last.pos,
      last.stride,
      w.headW,
      w.headB,
      w.channels,
      w.outChannels,
      1,
      1,
      1,
      frames,
      false,
    );
    advanceSignals(this.signals, frames);
  }

  clearState(): void {
    clearSignals(this.inputs);
  }

  saveState(): void {
    saveSignals(this.inputs);
  }

  restoreState(): void {
    restoreSignals(this.inputs);
  }
}

/** In place on the block: y[c, t] = scale[c] * y[c, t] + loc[c]. */
function batchNorm(y: Signal, scale: Float32Array, loc: Float32Array, frames: number): void {
  for (let c = 0; c < scale.length; c++) {
    const row = c * y.stride + y.pos;
    const s = scale[c]!;
    const l = loc[c]!;
    for (let t = 0; t < frames; t++) y.data[row + t] = s * y.data[row + t]! + l;
  }
}
