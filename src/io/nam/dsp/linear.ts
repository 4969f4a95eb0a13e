import { allocateSignals, Signal } from "../../../runtime/graph.ts";
import { copySamples } from "../../../runtime/kernels.ts";
import { ConfigFields, invalid } from "../fields.ts";
import type { NamFile } from "../file.ts";
import { reverseTaps } from "../layout.ts";
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

/** Linear's "implementation" values (linear.cpp `parse_implementation`): direct or FFT convolution, same sums. */
const IMPLEMENTATIONS = ["auto", "direct", "legacy", "old", "fft", "partitioned_fft", "partitioned-fft"];

interface LinearWeights {
  inChannels: number;
  outChannels: number;
  /** 1 -> 1 channel, kernel [taps] oldest tap first (convBlock's order), applied to each channel. */
  conv: Conv;
}

/**
 * Linear (NAM/linear.cpp): an impulse response, y[t] = bias + sum_k h[k] x[t - k], applied to each of the
 * first min(in, out) channels (other outputs are 0). Weights: h[0..receptive_field) (h[0] multiplies the newest
 * sample), then the bias.
 */
export function loadLinear(file: NamFile): NamModel {
  const fields = ConfigFields.of(file.config, `${file.source}: config`);
  const taps = fields.int("receptive_field");
  const hasBias = fields.bool("bias");
  const inChannels = fields.int("in_channels", 1);
  const outChannels = fields.int("out_channels", 1);
  // Direct or partitioned-FFT convolution: the same sums, rounded differently.
  const implementation = fields.has("implementation")
    ? fields.string("implementation").toLowerCase()
    : "auto";
  if (!IMPLEMENTATIONS.includes(implementation)) {
    throw invalid(
      fields.at("implementation"),
      `unknown implementation (known: ${IMPLEMENTATIONS.join(", ")})`,
    );
  }
  fields.finish();
  const weights = readWeights(
    file,
    (reader): LinearWeights => ({
      inChannels,
      outChannels,
      conv: {
        // The file's response is newest sample first, convBlock's kernel oldest first.
        w: reverseTaps(reader.take(taps, "the impulse response")),
        b: hasBias ? reader.take(1, "the bias") : null,
        inChannels: 1,
        outChannels: 1,
        kernelSize: taps,
        dilation: 1,
        groups: 1,
        wasm: null,
      },
    }),
  );
  return { architecture: "Linear", create: () => new LinearDsp(weights, file.sampleRate) };
}

class LinearDsp extends HistoryDsp {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly prewarmSamples = 0;
  readonly receptiveField: number;
  private readonly w: LinearWeights;
  private readonly x: Signal;
  /** The output block in the arena (used with the wasm kernels only). */
  private readonly y: Signal;
  /** w.conv, or its copy bound to this DSP's arena. */
  private conv: Conv;
  protected readonly histories: Signal[];

  constructor(weights: LinearWeights, sampleRate: number | null) {
    super(sampleRate);
    this.w = weights;
    this.inChannels = weights.inChannels;
    this.outChannels = weights.outChannels;
    this.receptiveField = weights.conv.kernelSize;
    this.x = new Signal(weights.inChannels, weights.conv.kernelSize - 1);
    this.y = new Signal(weights.outChannels, 0);
    this.conv = weights.conv;
    this.histories = [this.x];
  }

  protected allocate(maxBlock: number): void {
    const wasm = allocateSignals([this.x, this.y], maxBlock, convArrays([this.w.conv]));
    this.conv = bindConv(this.w.conv, wasm);
  }

  process(input: Float32Array, output: Float32Array, frames: number): void {
    const { x, w, conv, maxBlock } = this;
    // The wasm kernels write to the arena's y, copied out below.
    const out = conv.wasm === null ? output : this.y.data;
    beginSignals(this.histories, frames);
    for (let c = 0; c < w.inChannels; c++)
      copySamples(x.data, c * x.stride + x.pos, input, c * maxBlock, frames);
    const channels = Math.min(w.inChannels, w.outChannels);
    for (let c = 0; c < channels; c++) {
      convolve(conv, out, c * maxBlock, maxBlock, x.data, c * x.stride + x.pos, x.stride, frames, false);
    }
    if (out !== output) copyBlock(output, out, channels, maxBlock, frames);
    for (let c = channels; c < w.outChannels; c++) {
      for (let t = 0; t < frames; t++) output[c * maxBlock + t] = 0;
    }
    advanceSignals(this.histories, frames);
  }
}
