import { DeepspError } from "../../core/errors.ts";
import { runsFused } from "../kernels/index.ts";
import type { ActivationKind, Floats } from "../kernels/types.ts";
import { WasmMlp } from "../kernels/wasm/mlp.ts";
import { ActivationLayer } from "../layers/activation.ts";
import { DenseLayer } from "../layers/dense.ts";
import type { Layer } from "../layers/layer.ts";
import { countAllocated, reuse, type Sequence } from "../layers/sequence.ts";
import { type FloatType, Parameters } from "../parameters.ts";
import type { Model } from "./model.ts";

export interface MlpConfig {
  /** Input samples per output sample. Default 256. */
  window?: number;
  /** Hidden layer widths. Default [64, 64]. */
  hidden?: number[];
  /** Default "tanh". */
  activation?: ActivationKind;
}

/**
 * The study's fully connected regression: each output sample is an MLP of the `window` input samples
 * ending at it (mono; stereo data runs per channel). [batch, 1, T] -> [batch, 1, T - window + 1].
 */
export class MlpModel implements Model {
  readonly architecture = "mlp";
  readonly parameters: Parameters;
  readonly receptiveField: number;
  readonly recurrent = false;
  readonly channels = 1;
  readonly config: Required<MlpConfig>;
  private readonly layers: Layer[] = [];
  private windows: Floats | undefined;
  private output: Floats | undefined;
  private shape: { batch: number; outLength: number } | undefined;
  /** The fused wasm kernel (float32 with the wasm backend); null until first used. */
  private fused: WasmMlp | null = null;
  /** Whether the last forward call ran the fused kernel (backward then does too). */
  private ranFused = false;

  constructor(config: MlpConfig = {}, options: { seed?: number; floatType?: FloatType } = {}) {
    this.config = { window: 256, hidden: [64, 64], activation: "tanh", ...config };
    const { window, hidden, activation } = this.config;
    if (!(Number.isInteger(window) && window >= 1))
      throw new DeepspError("model/config", `mlp: window must be a whole number >= 1, got ${window}`);
    const widths = [window, ...hidden, 1];
    for (let i = 0; i + 1 < widths.length; i++) {
      this.layers.push(new DenseLayer(`layers.${i}`, { inputs: widths[i]!, outputs: widths[i + 1]! }));
      if (i + 2 < widths.length) this.layers.push(new ActivationLayer(`layers.${i}.activation`, activation));
    }
    this.parameters = new Parameters(
      this.layers.flatMap((layer) => layer.parameterSpecs()),
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    for (const layer of this.layers) layer.bind(this.parameters);
    this.receptiveField = window;
  }

  forward(input: Sequence): Sequence {
    if (input.channels !== 1)
      throw new DeepspError("model/shape", `mlp: expected 1 channel, got ${input.channels}`);
    const { window } = this.config;
    const outLength = input.length - window + 1;
    if (outLength < 1)
      throw new DeepspError(
        "model/shape",
        `mlp: input of ${input.length} samples is shorter than the window ${window}`,
      );
    this.ranFused = runsFused(input.data, this.parameters.values);
    if (this.ranFused) return this.forwardFused(input, outLength);
    // Unfold: row (b, t) holds input[b, t .. t + window - 1].
    const rows = input.batch * outLength;
    this.windows = reuse(this.windows, rows * window, input.data);
    for (let b = 0; b < input.batch; b++) {
      for (let t = 0; t < outLength; t++) {
        const from = b * input.length + t;
        this.windows.set(input.data.subarray(from, from + window), (b * outLength + t) * window);
      }
    }
    let h: Sequence = { data: this.windows, batch: rows, channels: window, length: 1 };
    for (const layer of this.layers) h = layer.forward(h);
    this.shape = { batch: input.batch, outLength };
    this.output = reuse(this.output, rows, h.data);
    this.output.set(h.data);
    return { data: this.output, batch: input.batch, channels: 1, length: outLength };
  }

  backward(dOutput: Sequence): void {
    if (this.ranFused) {
      this.fused!.backward(this.parameters.grads as Float32Array, dOutput.data as Float32Array);
      return;
    }
    const { batch, outLength } = this.shape!;
    let d: Sequence | null = { data: dOutput.data, batch: batch * outLength, channels: 1, length: 1 };
    for (let i = this.layers.length - 1; i >= 0 && d !== null; i--) d = this.layers[i]!.backward(d, i > 0);
  }

  /** The whole net as one wasm kernel over activations kept in wasm memory (../kernels/wasm/mlp.ts). */
  private forwardFused(input: Sequence, outLength: number): Sequence {
    const { window, hidden, activation } = this.config;
    this.fused ??= new WasmMlp(
      {
        window,
        widths: [...hidden, 1],
        activation,
        alpha: hidden.length > 0 ? (this.layers[1] as ActivationLayer).alpha : 0,
      },
      {
        count: this.parameters.count,
        layers: this.layers
          .filter((layer) => layer instanceof DenseLayer)
          .map((layer) => ({
            weight: this.parameters.entry(`${layer.name}.weight`).offset,
            bias: this.parameters.entry(`${layer.name}.bias`).offset,
          })),
      },
    );
    this.output = reuse(this.output, input.batch * outLength, input.data);
    const values = this.parameters.values as Float32Array;
    const x = input.data as Float32Array;
    countAllocated(this.fused.forward(this.output as Float32Array, x, values, input.batch, input.length));
    return { data: this.output, batch: input.batch, channels: 1, length: outLength };
  }

  setCarryState(): void {}

  resetState(): void {}

  toConfig(): { architecture: string } & Required<MlpConfig> {
    return { architecture: this.architecture, ...this.config };
  }
}
