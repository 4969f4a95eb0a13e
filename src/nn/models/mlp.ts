import { DeepspError } from "../../core/errors.ts";
import type { ActivationKind, Floats } from "../kernels/types.ts";
import { ActivationLayer } from "../layers/activation.ts";
import { DenseLayer } from "../layers/dense.ts";
import type { Layer } from "../layers/layer.ts";
import { reuse, type Sequence } from "../layers/sequence.ts";
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
    const { batch, outLength } = this.shape!;
    let d: Sequence | null = { data: dOutput.data, batch: batch * outLength, channels: 1, length: 1 };
    for (let i = this.layers.length - 1; i >= 0 && d !== null; i--) d = this.layers[i]!.backward(d, i > 0);
  }

  setCarryState(): void {}

  resetState(): void {}

  toConfig(): { architecture: string } & Required<MlpConfig> {
    return { architecture: this.architecture, ...this.config };
  }
}
