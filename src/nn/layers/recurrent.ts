import { DeepspError } from "../../core/errors.ts";
import { type Floats, kernels, type RecurrentShape } from "../kernels/index.ts";
import { fanInInit, type ParameterSpec, type Parameters } from "../parameters.ts";
import type { Layer } from "./layer.ts";
import { expectChannels, fromTimeMajor, reuse, type Sequence, toTimeMajor } from "./sequence.ts";

export interface RecurrentConfig {
  inputs: number;
  hidden: number;
}

/**
 * One LSTM or GRU layer (PyTorch nn.LSTM / nn.GRU, one layer, tensor names weight_ih, weight_hh, bias_ih,
 * bias_hh, init U(-1/sqrt(hidden), 1/sqrt(hidden))). Takes and returns [batch, channels, time]; runs the
 * time-major fused kernels inside.
 *
 * State: with `carryState` on, each forward call starts from the previous call's final state (truncated
 * backpropagation through time: the gradient stops at the chunk boundary); otherwise from zeros.
 * `resetState()` starts over from zeros.
 */
export class RecurrentLayer implements Layer {
  readonly name: string;
  readonly cell: "lstm" | "gru";
  readonly config: RecurrentConfig;
  carryState = false;
  private wIh!: Floats;
  private wHh!: Floats;
  private bIh!: Floats;
  private bHh!: Floats;
  private dwIh!: Floats;
  private dwHh!: Floats;
  private dbIh!: Floats;
  private dbHh!: Floats;
  private input: Sequence | undefined;
  private xT: Floats | undefined;
  private h: Floats | undefined;
  private c: Floats | undefined;
  private gates: Floats | undefined;
  private hn: Floats | undefined;
  private h0: Floats | undefined;
  private c0: Floats | undefined;
  private hasState = false;
  /** Whether the last forward started from a carried state (backward then needs that state). */
  private usedInitialState = false;
  private output: Floats | undefined;
  private dhT: Floats | undefined;
  private dxT: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string, cell: "lstm" | "gru", config: RecurrentConfig) {
    for (const field of ["inputs", "hidden"] as const) {
      if (!(Number.isInteger(config[field]) && config[field] >= 1)) {
        throw new DeepspError(
          "model/config",
          `${name}: ${field} must be a whole number >= 1, got ${config[field]}`,
        );
      }
    }
    this.name = name;
    this.cell = cell;
    this.config = config;
  }

  private get gateCount(): number {
    return this.cell === "lstm" ? 4 : 3;
  }

  parameterSpecs(): ParameterSpec[] {
    const { inputs, hidden } = this.config;
    const rows = this.gateCount * hidden;
    const init = fanInInit(hidden);
    return [
      { name: `${this.name}.weight_ih`, shape: [rows, inputs], init },
      { name: `${this.name}.weight_hh`, shape: [rows, hidden], init },
      { name: `${this.name}.bias_ih`, shape: [rows], init },
      { name: `${this.name}.bias_hh`, shape: [rows], init },
    ];
  }

  bind(parameters: Parameters): void {
    this.wIh = parameters.value(`${this.name}.weight_ih`);
    this.wHh = parameters.value(`${this.name}.weight_hh`);
    this.bIh = parameters.value(`${this.name}.bias_ih`);
    this.bHh = parameters.value(`${this.name}.bias_hh`);
    this.dwIh = parameters.grad(`${this.name}.weight_ih`);
    this.dwHh = parameters.grad(`${this.name}.weight_hh`);
    this.dbIh = parameters.grad(`${this.name}.bias_ih`);
    this.dbHh = parameters.grad(`${this.name}.bias_hh`);
  }

  resetState(): void {
    this.hasState = false;
  }

  /** The state after the last forward call: views of [batch, hidden] (c is null for a GRU). */
  finalState(): { h: Floats; c: Floats | null } {
    const { batch, length } = this.input!;
    const size = batch * this.config.hidden;
    const from = (length - 1) * size;
    return { h: this.h!.subarray(from, from + size), c: this.c ? this.c.subarray(from, from + size) : null };
  }

  forward(input: Sequence): Sequence {
    const h = this.forwardTimeMajor(input);
    const { batch, length } = input;
    this.output = reuse(this.output, h.length, input.data);
    fromTimeMajor(this.output, h, batch, this.config.hidden, length);
    return { data: this.output, batch, channels: this.config.hidden, length };
  }

  /**
   * forward without the last transpose: returns h [length, batch, hidden] (time-major, this layer's buffer),
   * for a caller that works on time-major rows (RnnModel's head is a dense layer over them).
   */
  forwardTimeMajor(input: Sequence): Floats {
    expectChannels(this.name, input, this.config.inputs);
    const { batch, length } = input;
    const { inputs, hidden } = this.config;
    const stateSize = batch * hidden;
    // Carry the previous call's final state in as this call's initial state (copied before h/c are reused).
    const carry = this.carryState && this.hasState && this.input?.batch === batch;
    if (carry) {
      const previous = this.finalState();
      this.h0 = reuse(this.h0, stateSize, input.data);
      this.h0.set(previous.h);
      if (previous.c) {
        this.c0 = reuse(this.c0, stateSize, input.data);
        this.c0.set(previous.c);
      }
    }
    const shape: RecurrentShape = { steps: length, batch, inputs, hidden };
    this.input = input;
    this.xT = reuse(this.xT, input.data.length, input.data);
    toTimeMajor(this.xT, input.data, batch, inputs, length);
    this.h = reuse(this.h, length * stateSize, input.data);
    this.gates = reuse(this.gates, length * stateSize * this.gateCount, input.data);
    const h0 = carry ? this.h0! : null;
    if (this.cell === "lstm") {
      this.c = reuse(this.c, length * stateSize, input.data);
      const c0 = carry ? this.c0! : null;
      kernels().lstmForward(
        {
          h: this.h,
          c: this.c,
          gates: this.gates,
          x: this.xT,
          wIh: this.wIh,
          wHh: this.wHh,
          bIh: this.bIh,
          bHh: this.bHh,
          h0,
          c0,
        },
        shape,
      );
    } else {
      this.hn = reuse(this.hn, length * stateSize, input.data);
      kernels().gruForward(
        {
          h: this.h,
          gates: this.gates,
          hn: this.hn,
          x: this.xT,
          wIh: this.wIh,
          wHh: this.wHh,
          bIh: this.bIh,
          bHh: this.bHh,
          h0,
        },
        shape,
      );
    }
    this.usedInitialState = carry;
    this.hasState = true;
    return this.h;
  }

  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null {
    const { batch, length } = this.input!;
    this.dhT = reuse(this.dhT, dOutput.data.length, dOutput.data);
    toTimeMajor(this.dhT, dOutput.data, batch, this.config.hidden, length);
    return this.backwardTimeMajor(this.dhT, inputGradient);
  }

  /** backward given d loss / d h as time-major [length, batch, hidden] (the pair of forwardTimeMajor). */
  backwardTimeMajor(dhT: Floats, inputGradient: boolean): Sequence | null {
    const input = this.input!;
    const { batch, length } = input;
    const { inputs, hidden } = this.config;
    const shape: RecurrentShape = { steps: length, batch, inputs, hidden };
    let dx: Floats | null = null;
    if (inputGradient) {
      this.dxT = reuse(this.dxT, input.data.length, input.data);
      this.dxT.fill(0);
      dx = this.dxT;
    }
    const h0 = this.usedInitialState ? this.h0! : null;
    const common = {
      dx,
      dwIh: this.dwIh,
      dwHh: this.dwHh,
      dbIh: this.dbIh,
      dbHh: this.dbHh,
      dh0: null,
      dh: dhT,
      dhT: null,
      x: this.xT!,
      wIh: this.wIh,
      wHh: this.wHh,
      h: this.h!,
      gates: this.gates!,
      h0,
    };
    if (this.cell === "lstm") {
      const c0 = this.usedInitialState ? this.c0! : null;
      kernels().lstmBackward({ ...common, dc0: null, dcT: null, c: this.c!, c0 }, shape);
    } else {
      kernels().gruBackward({ ...common, hn: this.hn! }, shape);
    }
    if (dx === null) return null;
    this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
    fromTimeMajor(this.inputGrad, dx, batch, inputs, length);
    return { data: this.inputGrad, batch, channels: inputs, length };
  }
}
