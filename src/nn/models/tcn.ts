import { DeepspError } from "../../core/errors.ts";
import { runsFused } from "../kernels/index.ts";
import type { ActivationKind, Floats } from "../kernels/types.ts";
import { WasmTcn } from "../kernels/wasm/tcn.ts";
import { ActivationLayer, GatedLayer } from "../layers/activation.ts";
import { Conv1dLayer } from "../layers/conv.ts";
import type { Layer } from "../layers/layer.ts";
import { countAllocated, expectChannels, reuse, type Sequence } from "../layers/sequence.ts";
import { type FloatType, Parameters } from "../parameters.ts";
import type { Model } from "./model.ts";
import { addCropped, addPadded, copyCropped } from "./rows.ts";

export interface TcnConfig {
  /** Audio channels in and out. Default 1. */
  channels?: number;
  /** Hidden channels. Default 16. */
  width?: number;
  /** Default 3. */
  kernelSize?: number;
  /** One dilated layer per entry. Default 1, 2, 4, ..., 512. */
  dilations?: number[];
  /** tanh(a) * sigmoid(b) gating (WaveNet) or a plain activation. Default true. */
  gated?: boolean;
  /** Activation when not gated. Default "tanh". */
  activation?: ActivationKind;
  /** "valid" (default): the input carries receptiveField - 1 samples of history; "causal": zero history. */
  padding?: "valid" | "causal";
}

/**
 * Temporal convolution network in WaveNet form: a 1x1 input conv to `width` channels; per dilation, a
 * dilated causal conv (to 2 x width when gated), the activation, a 1x1 residual conv added to the layer's
 * input, and the activation added to a skip sum; a 1x1 head from the skip sum to the output channels.
 * The same network as the gated TCN in ../shared/bench-anchors/torch_bench.py with padding "causal".
 */
export class TcnModel implements Model {
  readonly architecture = "tcn";
  readonly parameters: Parameters;
  readonly receptiveField: number;
  readonly recurrent = false;
  readonly channels: number;
  readonly config: Required<TcnConfig>;
  private readonly input: Conv1dLayer;
  private readonly convs: Conv1dLayer[] = [];
  private readonly activations: Layer[] = [];
  private readonly residuals: Conv1dLayer[] = [];
  private readonly head: Conv1dLayer;
  /** Per layer: its input h_i and the gradient buffer for it. */
  private hidden: Sequence[] = [];
  private skip: Floats | undefined;
  private gatedGrad: Floats | undefined;
  /** The fused wasm kernel (float32 with the wasm backend) and its output; null until first used. */
  private fused: WasmTcn | null = null;
  private fusedOutput: Float32Array | undefined;
  /** Whether the last forward call ran the fused kernel (backward then does too). */
  private ranFused = false;

  constructor(config: TcnConfig = {}, options: { seed?: number; floatType?: FloatType } = {}) {
    this.config = {
      channels: 1,
      width: 16,
      kernelSize: 3,
      dilations: Array.from({ length: 10 }, (_, i) => 2 ** i),
      gated: true,
      activation: "tanh",
      padding: "valid",
      ...config,
    };
    const { channels, width, kernelSize, dilations, gated, activation, padding } = this.config;
    if (dilations.length === 0)
      throw new DeepspError("model/config", "tcn: dilations must list at least one layer");
    this.channels = channels;
    this.input = new Conv1dLayer("input", { inChannels: channels, outChannels: width, kernelSize: 1 });
    dilations.forEach((dilation, i) => {
      const outChannels = gated ? 2 * width : width;
      this.convs.push(
        new Conv1dLayer(`layers.${i}.conv`, {
          inChannels: width,
          outChannels,
          kernelSize,
          dilation,
          padding,
        }),
      );
      this.activations.push(
        gated
          ? new GatedLayer(`layers.${i}.gate`)
          : new ActivationLayer(`layers.${i}.activation`, activation),
      );
      this.residuals.push(
        new Conv1dLayer(`layers.${i}.residual`, { inChannels: width, outChannels: width, kernelSize: 1 }),
      );
    });
    this.head = new Conv1dLayer("head", { inChannels: width, outChannels: channels, kernelSize: 1 });
    const layers: Layer[] = [
      this.input,
      ...this.convs.flatMap((conv, i) => [conv, this.activations[i]!, this.residuals[i]!]),
      this.head,
    ];
    this.parameters = new Parameters(
      layers.flatMap((layer) => layer.parameterSpecs()),
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    for (const layer of layers) layer.bind(this.parameters);
    this.receptiveField =
      padding === "causal" ? 1 : 1 + (kernelSize - 1) * dilations.reduce((sum, d) => sum + d, 0);
  }

  forward(x: Sequence): Sequence {
    this.ranFused = runsFused(x.data, this.parameters.values);
    if (this.ranFused) return this.forwardFused(x);
    let h = this.input.forward(x);
    const rows = h.batch * this.config.width;
    // The skip sum covers the last layer's frames; each layer's gate output is added while it is still in cache.
    const skipLength = h.length - (this.receptiveField - 1);
    const skip = reuse(this.skip, rows * skipLength, h.data);
    this.skip = skip;
    this.hidden = [];
    this.convs.forEach((conv, i) => {
      this.hidden.push(h);
      const g = this.activations[i]!.forward(conv.forward(h));
      if (i === 0) copyCropped(skip, skipLength, g.data, g.length, rows);
      else addCropped(skip, skipLength, g.data, g.length, rows);
      // h_{i+1} = the last g.length samples of h_i + residual(g) (valid convs shorten the signal), built in
      // place in the residual 1x1's output buffer: its backward reads only its input g.
      const r = this.residuals[i]!.forward(g);
      addCropped(r.data, r.length, h.data, h.length, rows);
      h = r;
    });
    return this.head.forward({ data: skip, batch: h.batch, channels: this.config.width, length: skipLength });
  }

  backward(dOutput: Sequence): void {
    if (this.ranFused) {
      this.fused!.backward(this.parameters.grads as Float32Array, dOutput.data as Float32Array);
      return;
    }
    const dSkip = this.head.backward(dOutput, true)!;
    // Gradient of h_{i+1}; the last layer's h feeds nothing (only the skip sum reaches the head): null.
    let dNext: Floats | null = null;
    let nextLength = dSkip.length;
    for (let i = this.convs.length - 1; i >= 0; i--) {
      const hi = this.hidden[i]!;
      const width = this.config.width;
      // dg = d(residual input) + d(skip) (cropped to this layer's length), summed in place in the residual
      // 1x1's input-gradient buffer; the last layer's g feeds only the skip sum.
      let dg: Floats;
      if (dNext !== null) {
        // With equal lengths (causal padding) the skip gradient is the residual's starting value: one pass less.
        const start = dSkip.length === nextLength ? dSkip.data : null;
        const dr = { data: dNext, batch: hi.batch, channels: width, length: nextLength };
        dg = this.residuals[i]!.backward(dr, true, start)!.data;
        if (start === null) addPadded(dg, nextLength, dSkip.data, dSkip.length, hi.batch * width);
      } else {
        dg = reuse(this.gatedGrad, hi.batch * width * nextLength, dSkip.data);
        this.gatedGrad = dg;
        dg.fill(0);
        addPadded(dg, nextLength, dSkip.data, dSkip.length, hi.batch * width);
      }
      const dz: Sequence = this.activations[i]!.backward(
        { data: dg, batch: hi.batch, channels: width, length: nextLength },
        true,
      )!;
      // dh_i = the conv's input gradient + d h_{i+1} (padded), summed in the conv's gradient buffer (started
      // from d h_{i+1} when the lengths are equal).
      const start: Floats | null = dNext !== null && nextLength === hi.length ? dNext : null;
      const dHidden: Floats = this.convs[i]!.backward(dz, true, start)!.data;
      if (dNext !== null && start === null)
        addPadded(dHidden, hi.length, dNext, nextLength, hi.batch * width);
      dNext = dHidden;
      nextLength = hi.length;
    }
    this.input.backward(
      { data: dNext!, batch: dOutput.batch, channels: this.config.width, length: nextLength },
      false,
    );
  }

  /** The whole stack as one wasm kernel over activations kept in wasm memory (../kernels/wasm/tcn.ts). */
  private forwardFused(x: Sequence): Sequence {
    expectChannels("tcn", x, this.channels);
    this.fused ??= this.createFused();
    const outLength = x.length - (this.receptiveField - 1);
    if (outLength < 1) {
      throw new DeepspError(
        "model/shape",
        `tcn: input of ${x.length} samples is shorter than the receptive field ${this.receptiveField}`,
      );
    }
    const size = x.batch * this.channels * outLength;
    this.fusedOutput = reuse(this.fusedOutput, size, x.data) as Float32Array;
    const values = this.parameters.values as Float32Array;
    countAllocated(this.fused.forward(this.fusedOutput, x.data as Float32Array, values, x.batch, x.length));
    return { data: this.fusedOutput, batch: x.batch, channels: this.channels, length: outLength };
  }

  private createFused(): WasmTcn {
    const { channels, width, kernelSize, dilations, gated, activation, padding } = this.config;
    const tensors = (layer: Conv1dLayer) => ({
      weight: this.parameters.entry(`${layer.name}.weight`).offset,
      bias: this.parameters.entry(`${layer.name}.bias`).offset,
    });
    const alpha = gated ? 0 : (this.activations[0] as ActivationLayer).alpha;
    return new WasmTcn(
      { channels, width, kernelSize, dilations, gated, activation, alpha, causal: padding === "causal" },
      {
        count: this.parameters.count,
        input: tensors(this.input),
        convs: this.convs.map(tensors),
        residuals: this.residuals.map(tensors),
        head: tensors(this.head),
      },
    );
  }

  setCarryState(): void {}

  resetState(): void {}

  toConfig(): { architecture: string } & Required<TcnConfig> {
    return { architecture: this.architecture, ...this.config };
  }
}
