import { allocateSignals, Signal } from "../../../runtime/graph.ts";
import { copySamples } from "../../../runtime/kernels.ts";
import { ConfigFields, checkGroups } from "../fields.ts";
import type { NamFile } from "../file.ts";
import { activateRows, checkActivationChannels, type NamActivation, parseActivation } from "./activations.ts";
import {
  advanceSignals,
  beginSignals,
  bindConv,
  type Conv,
  convArrays,
  convolve,
  copyBlock,
  HistoryDsp,
  type NamModel,
  readWeights,
} from "./dsp.ts";

interface ConvNetBlock {
  /** Kernel 2, `channels` out; no bias with batch norm. */
  conv: Conv;
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
  /** 1x1, channels -> outChannels, with bias. */
  head: Conv;
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
      const conv: Conv = {
        w,
        b,
        inChannels: blockIn,
        outChannels: channels,
        kernelSize: 2,
        dilation,
        groups,
        wasm: null,
      };
      if (!batchnorm) return { conv, scale: null, loc: null };
      const mean = reader.take(channels, `${name} batch norm running_mean`);
      const variance = reader.take(channels, `${name} batch norm running_var`);
      const weight = reader.take(channels, `${name} batch norm weight`);
      const bias = reader.take(channels, `${name} batch norm bias`);
      const eps = Math.fround(reader.next(`${name} batch norm eps`));
      // convnet.cpp BatchNorm: scale = weight / sqrt(eps + var), loc = bias - scale * mean.
      const scale = weight.map((wc, c) => wc / Math.sqrt(eps + variance[c]!));
      const loc = bias.map((bc, c) => bc - scale[c]! * mean[c]!);
      return { conv, scale, loc };
    });
    return {
      inChannels,
      outChannels,
      channels,
      groups,
      activation,
      blocks,
      head: {
        w: reader.take(outChannels * channels, "the head weights"),
        b: reader.take(outChannels, "the head bias"),
        inChannels: channels,
        outChannels,
        kernelSize: 1,
        dilation: 1,
        groups: 1,
        wasm: null,
      },
    };
  });
  return { architecture: "ConvNet", create: () => new ConvNetDsp(weights, file.sampleRate) };
}

class ConvNetDsp extends HistoryDsp {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly prewarmSamples: number;
  readonly receptiveField: number;
  private readonly weights: ConvNetWeights;
  /** The weights with their convs bound to this DSP's arena (the weights themselves with the JS kernels). */
  private w: ConvNetWeights;
  /** Block i's input, with dilation_i samples of history. */
  private readonly inputs: Signal[];
  /** The last block's output. */
  private readonly last: Signal;
  /** The output block in the arena (used with the wasm kernels only). */
  private readonly y: Signal;
  private readonly signals: Signal[];
  /** The blocks' inputs (the last block's output keeps no history). */
  protected readonly histories: Signal[];

  constructor(weights: ConvNetWeights, sampleRate: number | null) {
    super(sampleRate);
    this.weights = weights;
    this.w = weights;
    this.inChannels = weights.inChannels;
    this.outChannels = weights.outChannels;
    // convnet.cpp: 1 + the sum of the dilations (each block's kernel is 2).
    this.receptiveField = 1 + weights.blocks.reduce((sum, block) => sum + block.conv.dilation, 0);
    this.prewarmSamples = this.receptiveField;
    this.inputs = weights.blocks.map((block) => new Signal(block.conv.inChannels, block.conv.dilation));
    this.last = new Signal(weights.channels, 0);
    this.y = new Signal(weights.outChannels, 0);
    this.signals = [...this.inputs, this.last];
    this.histories = this.inputs;
  }

  protected allocate(maxBlock: number): void {
    const weights = this.weights;
    const convs = [...weights.blocks.map((block) => block.conv), weights.head];
    const wasm = allocateSignals([...this.signals, this.y], maxBlock, convArrays(convs));
    if (wasm === null) {
      this.w = weights;
      return;
    }
    // Written out (no spread): the same shapes as the model's weights.
    const { inChannels, outChannels, channels, groups, activation } = weights;
    const blocks = weights.blocks.map(
      (block): ConvNetBlock => ({ conv: bindConv(block.conv, wasm), scale: block.scale, loc: block.loc }),
    );
    const head = bindConv(weights.head, wasm);
    this.w = { inChannels, outChannels, channels, groups, activation, blocks, head };
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
      convolve(block.conv, dst.data, dst.pos, dst.stride, src.data, src.pos, src.stride, frames, false);
      if (block.scale !== null) batchNorm(dst, block.scale, block.loc!, frames);
      activateRows(w.activation, dst.data, dst.pos, dst.stride, w.channels, frames);
    }
    const last = this.last;
    if (w.head.wasm === null) {
      convolve(w.head, output, 0, maxBlock, last.data, last.pos, last.stride, frames, false);
    } else {
      // The wasm kernels write to the arena's y.
      const y = this.y.data;
      convolve(w.head, y, 0, maxBlock, last.data, last.pos, last.stride, frames, false);
      copyBlock(output, y, w.outChannels, maxBlock, frames);
    }
    advanceSignals(this.signals, frames);
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
