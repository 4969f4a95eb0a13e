import { DeepspError } from "../../core/errors.ts";
import { type ActivationKind, type Floats, kernels } from "../kernels/index.ts";
import { ACTIVATIONS, ActivationLayer, GatedLayer } from "../layers/activation.ts";
import { Conv1dLayer } from "../layers/conv.ts";
import type { Layer } from "../layers/layer.ts";
import { expectChannels, reuse, type Sequence } from "../layers/sequence.ts";
import { type FloatType, fanInInit, type ParameterSpec, Parameters } from "../parameters.ts";
import type { Model } from "./model.ts";
import type { WavenetLayerArrayConfig, WavenetModelConfig } from "./registry.ts";
import { addCropped, addPadded, copyCropped } from "./rows.ts";

/**
 * NAM's classic ("A1", .nam 0.5) WaveNet (van den Oord et al. 2016, as in neural-amp-modeler's
 * nam/models/wavenet.py), with valid convolutions: [batch, inputSize, L] -> [batch, headSize, L - (R - 1)].
 *
 *   c = x; y = x; head = none
 *   per layer array: y = rechannel(y)                          (1x1, inputSize -> channels, no bias)
 *     per dilation d: z = conv_d(y) + mixer(c)                 (kernel K, channels -> C' = gated ? 2C : C, bias;
 *                                                               mixer 1x1 conditionSize -> C', no bias)
 *                     a = gated ? f(z[:C]) * sigmoid(z[C:]) : f(z)
 *                     y = y + output(a)                         (1x1 C -> C with bias)
 *                     head = head + a                          (every term cropped to the array's last sample count)
 *     head = headRechannel(head)                               (1x1 C -> headSize, bias = headBias)
 *   output = headScale * head
 *
 * Every sum crops its longer term to the shorter one's last samples (valid convolutions shorten the signal), so
 * R = 1 + sum over arrays of (kernelSize - 1) * sum(dilations). The head of array i feeds array i + 1's head
 * sum: its headSize must equal array i + 1's channels. The last array's residual path (its y output, and so
 * its last layer's output 1x1) does not reach the model output: those tensors exist (NAM exports them) and
 * get zero gradient.
 *
 * Parameter names mirror the structure; the flat order is NAM's weight order (see wavenetParameterShapes):
 * layers.<i>.rechannel.weight, layers.<i>.layers.<j>.{conv.weight, conv.bias, mixer.weight, output.weight,
 * output.bias}, layers.<i>.head.weight (+ .bias). headScale is a fixed constant of the config, not trained
 * (NAM exports it as the last weight).
 */
export class WavenetModel implements Model {
  readonly architecture = "wavenet";
  readonly parameters: Parameters;
  readonly receptiveField: number;
  readonly recurrent = false;
  readonly channels: number;
  readonly config: WavenetModelConfig;
  private readonly arrays: LayerArray[];
  private condition: Sequence | undefined;
  private output: Floats | undefined;
  private scaledGrad: Floats | undefined;

  constructor(config: WavenetModelConfig, options: { seed?: number; floatType?: FloatType } = {}) {
    validateWavenetConfig(config);
    this.config = cloneConfig(config);
    this.channels = config.layers[0]!.inputSize;
    this.arrays = this.config.layers.map((array, i) => new LayerArray(`layers.${i}`, array));
    const layers = this.arrays.flatMap((array) => array.allLayers());
    this.parameters = new Parameters(
      layers.flatMap((layer) => layer.parameterSpecs()),
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    for (const layer of layers) layer.bind(this.parameters);
    this.receptiveField = wavenetReceptiveField(this.config);
  }

  forward(x: Sequence): Sequence {
    expectChannels("wavenet", x, this.channels);
    if (x.length < this.receptiveField) {
      throw new DeepspError(
        "model/shape",
        `wavenet: input of ${x.length} samples is shorter than the receptive field ${this.receptiveField}`,
      );
    }
    this.condition = x;
    let y = x;
    let head: Sequence | null = null;
    for (const array of this.arrays) [head, y] = array.forward(y, x, head);
    const out = head!;
    this.output = reuse(this.output, out.data.length, out.data);
    const scale = this.config.headScale;
    for (let k = 0; k < out.data.length; k++) this.output[k] = scale * out.data[k]!;
    return { ...out, data: this.output };
  }

  backward(dOutput: Sequence): void {
    this.scaledGrad = reuse(this.scaledGrad, dOutput.data.length, dOutput.data);
    const scale = this.config.headScale;
    for (let k = 0; k < dOutput.data.length; k++) this.scaledGrad[k] = scale * dOutput.data[k]!;
    let dHead: Sequence = { ...dOutput, data: this.scaledGrad };
    // The last array's y output feeds nothing: its gradient is null.
    let dY: Floats | null = null;
    for (let i = this.arrays.length - 1; i >= 0; i--) {
      const result = this.arrays[i]!.backward(dHead, dY, this.condition!, i > 0);
      if (i > 0) {
        dHead = result.dHeadIn!;
        dY = result.dInput!.data;
      }
    }
  }

  setCarryState(): void {}

  resetState(): void {}

  toConfig(): { architecture: "wavenet" } & WavenetModelConfig {
    return cloneConfig(this.config);
  }
}

/** 1 + sum over arrays of (kernelSize - 1) * sum(dilations). */
export function wavenetReceptiveField(config: Pick<WavenetModelConfig, "layers">): number {
  let field = 1;
  for (const array of config.layers) {
    field += (array.kernelSize - 1) * array.dilations.reduce((sum, d) => sum + d, 0);
  }
  return field;
}

/**
 * Every tensor of a WaveNet with this config, in NAM's weight order (the order of the flat parameter array):
 * per array: rechannel.weight [C, inputSize, 1]; per layer: conv.weight [C', C, K], conv.bias [C'],
 * mixer.weight [C', conditionSize, 1], output.weight [C, C, 1], output.bias [C]; head.weight [headSize, C, 1]
 * (+ head.bias [headSize]). C' = 2C when gated. Values are stored [out][in][k] (PyTorch's Conv1d layout).
 */
export function wavenetParameterShapes(
  config: Pick<WavenetModelConfig, "layers">,
): { name: string; shape: number[] }[] {
  const shapes: { name: string; shape: number[] }[] = [];
  config.layers.forEach((array, i) => {
    const { inputSize, conditionSize, channels, headSize, kernelSize, gated, headBias } = array;
    const mid = gated ? 2 * channels : channels;
    const prefix = `layers.${i}`;
    shapes.push({ name: `${prefix}.rechannel.weight`, shape: [channels, inputSize, 1] });
    array.dilations.forEach((_, j) => {
      const layer = `${prefix}.layers.${j}`;
      shapes.push(
        { name: `${layer}.conv.weight`, shape: [mid, channels, kernelSize] },
        { name: `${layer}.conv.bias`, shape: [mid] },
        { name: `${layer}.mixer.weight`, shape: [mid, conditionSize, 1] },
        { name: `${layer}.output.weight`, shape: [channels, channels, 1] },
        { name: `${layer}.output.bias`, shape: [channels] },
      );
    });
    shapes.push({ name: `${prefix}.head.weight`, shape: [headSize, channels, 1] });
    if (headBias) shapes.push({ name: `${prefix}.head.bias`, shape: [headSize] });
  });
  return shapes;
}

/**
 * Checks what the schema cannot: at least one array, whole positive sizes, a non-empty dilation list per
 * array, and the chaining between arrays (array i + 1 takes array i's channels as input and adds array i's
 * head into its own head sum; every mixer reads the model input; the last head is the model output).
 */
export function validateWavenetConfig(config: WavenetModelConfig): void {
  const fail = (message: string): never => {
    throw new DeepspError("model/config", `wavenet: ${message}`);
  };
  if (!Array.isArray(config.layers) || config.layers.length === 0)
    fail("layers must list at least one layer array");
  if (!Number.isFinite(config.headScale)) fail(`headScale must be a finite number, got ${config.headScale}`);
  const inputs = config.layers[0]!.inputSize;
  config.layers.forEach((array, i) => {
    const where = `layer array ${i}`;
    for (const field of ["inputSize", "conditionSize", "channels", "headSize", "kernelSize"] as const) {
      const value = array[field];
      if (!(Number.isInteger(value) && value >= 1))
        fail(`${where}: ${field} must be a whole number >= 1, got ${value}`);
    }
    if (!Array.isArray(array.dilations) || array.dilations.length === 0)
      fail(`${where}: dilations must list at least one layer (got none)`);
    array.dilations.forEach((d, j) => {
      if (!(Number.isInteger(d) && d >= 1))
        fail(`${where}: dilations[${j}] must be a whole number >= 1, got ${d}`);
    });
    if (array.conditionSize !== inputs) {
      fail(
        `${where}: conditionSize ${array.conditionSize} must equal the model input channels ${inputs} (layer array 0's inputSize: the condition is the input)`,
      );
    }
    const next = config.layers[i + 1];
    if (next) {
      if (array.headSize !== next.channels) {
        fail(
          `layer array ${i} headSize ${array.headSize} must equal layer array ${i + 1} channels ${next.channels} (array ${i}'s head adds into array ${i + 1}'s head sum)`,
        );
      }
      if (next.inputSize !== array.channels) {
        fail(
          `layer array ${i + 1} inputSize ${next.inputSize} must equal layer array ${i} channels ${array.channels} (array ${i}'s output is its input)`,
        );
      }
    } else if (array.headSize !== inputs) {
      fail(
        `the last layer array's headSize ${array.headSize} is the output channel count and must equal the input channels ${inputs}`,
      );
    }
  });
}

function cloneConfig(config: WavenetModelConfig): { architecture: "wavenet" } & WavenetModelConfig {
  return {
    architecture: "wavenet",
    layers: config.layers.map((array) => ({ ...array, dilations: [...array.dilations] })),
    headScale: config.headScale,
  };
}

/** What owns tensors: every Layer, and the input mixer (which has its own forward/backward signature). */
type ParameterOwner = Pick<Layer, "parameterSpecs" | "bind">;

/** One dilated layer of an array: conv, mixer, activation (or gate), output 1x1. */
interface WavenetLayer {
  conv: Conv1dLayer;
  mixer: InputMixer;
  activation: Layer;
  output: Conv1dLayer;
}

/** One layer array: rechannel, its dilated layers, and its head rechannel, with the buffers they share. */
class LayerArray {
  readonly config: WavenetLayerArrayConfig;
  readonly rechannel: Conv1dLayer;
  readonly layers: WavenetLayer[];
  readonly head: Conv1dLayer;
  readonly receptiveField: number;
  /** Per layer: its input y_j (saved by forward for backward). */
  private readonly inputs: Sequence[] = [];
  private headSum: Floats | undefined;
  private headInGrad: Floats | undefined;
  /** Gradient of the last layer's activation when nothing flows back through its output 1x1. */
  private activationGrad: Floats | undefined;

  constructor(name: string, config: WavenetLayerArrayConfig) {
    this.config = config;
    const { inputSize, conditionSize, channels, headSize, kernelSize, dilations, activation, gated } = config;
    const mid = gated ? 2 * channels : channels;
    this.rechannel = new Conv1dLayer(`${name}.rechannel`, {
      inChannels: inputSize,
      outChannels: channels,
      kernelSize: 1,
      bias: false,
    });
    this.layers = dilations.map((dilation, j) => {
      const layer = `${name}.layers.${j}`;
      return {
        conv: new Conv1dLayer(`${layer}.conv`, {
          inChannels: channels,
          outChannels: mid,
          kernelSize,
          dilation,
        }),
        mixer: new InputMixer(`${layer}.mixer`, conditionSize, mid),
        activation: !gated
          ? new ActivationLayer(`${layer}.activation`, activation)
          : activation === "tanh"
            ? new GatedLayer(`${layer}.gate`)
            : new GeneralGateLayer(`${layer}.gate`, activation),
        output: new Conv1dLayer(`${layer}.output`, {
          inChannels: channels,
          outChannels: channels,
          kernelSize: 1,
        }),
      };
    });
    this.head = new Conv1dLayer(`${name}.head`, {
      inChannels: channels,
      outChannels: headSize,
      kernelSize: 1,
      bias: config.headBias,
    });
    this.receptiveField = 1 + (kernelSize - 1) * dilations.reduce((sum, d) => sum + d, 0);
  }

  /** Every layer, in NAM's weight order. */
  allLayers(): ParameterOwner[] {
    return [
      this.rechannel,
      ...this.layers.flatMap((layer) => [layer.conv, layer.mixer, layer.activation, layer.output]),
      this.head,
    ];
  }

  /**
   * (y [B, inputSize, L], condition c [B, conditionSize, L0], head from the previous array [B, C, L] or null)
   * -> (head [B, headSize, n], y [B, C, n]) with n = L - (receptiveField - 1).
   */
  forward(y: Sequence, c: Sequence, headIn: Sequence | null): [Sequence, Sequence] {
    const { channels } = this.config;
    const n = y.length - (this.receptiveField - 1);
    const rows = y.batch * channels;
    const headSum = reuse(this.headSum, rows * n, y.data);
    this.headSum = headSum;
    if (headIn) {
      expectChannels(this.head.name, headIn, channels);
      copyCropped(headSum, n, headIn.data, headIn.length, rows);
    } else {
      headSum.fill(0);
    }
    let h = this.rechannel.forward(y);
    for (let j = 0; j < this.layers.length; j++) {
      const { conv, mixer, activation, output } = this.layers[j]!;
      this.inputs[j] = h;
      // The conv's output buffer takes the mixer term in place: the conv's backward reads only its input.
      const z = conv.forward(h);
      mixer.addForward(z, c);
      const a = activation.forward(z);
      addCropped(headSum, n, a.data, a.length, rows);
      // y_{j+1} = y_j (its last samples) + output(a), built in place in the 1x1's output buffer (the 1x1's
      // backward reads only its input a).
      const r = output.forward(a);
      addCropped(r.data, r.length, h.data, h.length, rows);
      h = r;
    }
    const head = this.head.forward({ data: headSum, batch: y.batch, channels, length: n });
    return [head, h];
  }

  /**
   * Adds parameter gradients given d head out [B, headSize, n] and d y out [B, C, n] (null when y feeds
   * nothing). With `inputGradients`, returns d head in [B, C, L] and d y in [B, inputSize, L].
   */
  backward(
    dHeadOut: Sequence,
    dYOut: Floats | null,
    c: Sequence,
    inputGradients: boolean,
  ): { dHeadIn: Sequence | null; dInput: Sequence | null } {
    const { channels } = this.config;
    const batch = dHeadOut.batch;
    const rows = batch * channels;
    const dHead = this.head.backward(dHeadOut, true)!;
    const n = dHead.length;
    let dNext = dYOut;
    for (let j = this.layers.length - 1; j >= 0; j--) {
      const { conv, mixer, activation, output } = this.layers[j]!;
      const input = this.inputs[j]!;
      const m = input.length - (conv.config.kernelSize - 1) * conv.config.dilation;
      // da = d(head sum) (padded to this layer's length) + d(output 1x1), summed in the 1x1's gradient buffer.
      let da: Floats;
      if (dNext !== null) {
        da = output.backward({ data: dNext, batch, channels, length: m }, true)!.data;
      } else {
        da = reuse(this.activationGrad, rows * m, dHeadOut.data);
        this.activationGrad = da;
        da.fill(0);
      }
      addPadded(da, m, dHead.data, n, rows);
      const dz = activation.backward({ data: da, batch, channels, length: m }, true)!;
      mixer.backward(dz, c);
      // dy_j = conv's input gradient + d y_{j+1} (padded), summed in the conv's gradient buffer.
      const dy = conv.backward(dz, true)!.data;
      if (dNext !== null) addPadded(dy, input.length, dNext, m, rows);
      dNext = dy;
    }
    const length = this.inputs[0]!.length;
    const dInput = this.rechannel.backward({ data: dNext!, batch, channels, length }, inputGradients);
    if (!inputGradients) return { dHeadIn: null, dInput: null };
    const dHeadIn = reuse(this.headInGrad, rows * length, dHead.data);
    this.headInGrad = dHeadIn;
    dHeadIn.fill(0);
    addPadded(dHeadIn, length, dHead.data, n, rows);
    return { dHeadIn: { data: dHeadIn, batch, channels, length }, dInput };
  }
}

/**
 * NAM's input mixer: a 1x1 conv without bias from the condition (the model input) to the layer's conv
 * channels, added into the conv output. Pointwise, so it runs only over the condition's last samples (the
 * ones the valid conv output lines up with). Parameter `<name>.weight` [outChannels, conditionSize, 1].
 */
class InputMixer implements ParameterOwner {
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  private weight!: Floats;
  private weightGrad!: Floats;

  constructor(name: string, inChannels: number, outChannels: number) {
    this.name = name;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
  }

  parameterSpecs(): ParameterSpec[] {
    return [
      {
        name: `${this.name}.weight`,
        shape: [this.outChannels, this.inChannels, 1],
        init: fanInInit(this.inChannels),
      },
    ];
  }

  bind(parameters: Parameters): void {
    this.weight = parameters.value(`${this.name}.weight`);
    this.weightGrad = parameters.grad(`${this.name}.weight`);
  }

  /** z[b, o, t] += sum_i w[o, i] c[b, i, t + c.length - z.length]. */
  addForward(z: Sequence, c: Sequence): void {
    expectChannels(this.name, c, this.inChannels);
    const { inChannels, outChannels, weight } = this;
    const zData = z.data;
    const cData = c.data;
    const length = z.length;
    const offset = c.length - length;
    for (let b = 0; b < z.batch; b++) {
      for (let o = 0; o < outChannels; o++) {
        const zRow = (b * outChannels + o) * length;
        for (let i = 0; i < inChannels; i++) {
          const w = weight[o * inChannels + i]!;
          const cRow = (b * inChannels + i) * c.length + offset;
          for (let t = 0; t < length; t++) zData[zRow + t]! += w * cData[cRow + t]!;
        }
      }
    }
  }

  /** dw[o, i] += sum_{b, t} dz[b, o, t] c[b, i, t + c.length - dz.length] (the condition needs no gradient). */
  backward(dz: Sequence, c: Sequence): void {
    const { inChannels, outChannels } = this;
    const dzData = dz.data;
    const cData = c.data;
    const length = dz.length;
    const offset = c.length - length;
    for (let o = 0; o < outChannels; o++) {
      for (let i = 0; i < inChannels; i++) {
        let sum = 0;
        for (let b = 0; b < dz.batch; b++) {
          const dzRow = (b * outChannels + o) * length;
          const cRow = (b * inChannels + i) * c.length + offset;
          for (let t = 0; t < length; t++) sum += dzData[dzRow + t]! * cData[cRow + t]!;
        }
        this.weightGrad[o * inChannels + i]! += sum;
      }
    }
  }
}

/**
 * NAM's gate with a non-tanh activation f: [batch, 2C, T] -> [batch, C, T], f(first half) * sigmoid(second
 * half). (With f = tanh the model uses the fused GatedLayer.)
 */
class GeneralGateLayer implements Layer {
  readonly name: string;
  readonly kind: ActivationKind;
  private input: Sequence | undefined;
  /** f(first half) and sigmoid(second half), [batch, C, T] each. */
  private activated: Floats | undefined;
  private gate: Floats | undefined;
  private output: Floats | undefined;
  private product: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string, kind: ActivationKind) {
    if (!ACTIVATIONS.includes(kind)) {
      throw new DeepspError(
        "model/config",
        `${name}: unknown activation "${kind}" (valid: ${ACTIVATIONS.join(", ")})`,
      );
    }
    this.name = name;
    this.kind = kind;
  }

  parameterSpecs(): ParameterSpec[] {
    return [];
  }

  bind(): void {}

  forward(input: Sequence): Sequence {
    const channels = input.channels / 2;
    const size = channels * input.length;
    const total = input.batch * size;
    this.input = input;
    this.activated = reuse(this.activated, total, input.data);
    this.gate = reuse(this.gate, total, input.data);
    this.output = reuse(this.output, total, input.data);
    const k = kernels();
    for (let b = 0; b < input.batch; b++) {
      const first = input.data.subarray(2 * b * size, (2 * b + 1) * size);
      const second = input.data.subarray((2 * b + 1) * size, (2 * b + 2) * size);
      k.activationForward(this.activated.subarray(b * size, (b + 1) * size), first, this.kind, size, 0.01);
      k.activationForward(this.gate.subarray(b * size, (b + 1) * size), second, "sigmoid", size, 0.01);
    }
    for (let i = 0; i < total; i++) this.output[i] = this.activated[i]! * this.gate[i]!;
    return { data: this.output, batch: input.batch, channels, length: input.length };
  }

  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null {
    if (!inputGradient) return null;
    const input = this.input!;
    const activated = this.activated!;
    const gate = this.gate!;
    const size = (input.channels / 2) * input.length;
    const total = input.batch * size;
    this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
    this.inputGrad.fill(0);
    // d f(first) = dy * gate, then d sigmoid(second) = dy * f(first), each through its activation's derivative.
    this.product = reuse(this.product, total, input.data);
    const product = this.product;
    const k = kernels();
    for (const [half, other, values, kind] of [
      [0, gate, activated, this.kind],
      [1, activated, gate, "sigmoid"],
    ] as const) {
      for (let i = 0; i < total; i++) product[i] = dOutput.data[i]! * other[i]!;
      for (let b = 0; b < input.batch; b++) {
        const from = (2 * b + half) * size;
        k.activationBackward(
          this.inputGrad.subarray(from, from + size),
          product.subarray(b * size, (b + 1) * size),
          input.data.subarray(from, from + size),
          values.subarray(b * size, (b + 1) * size),
          kind,
          size,
          0.01,
        );
      }
    }
    return { ...input, data: this.inputGrad };
  }
}
