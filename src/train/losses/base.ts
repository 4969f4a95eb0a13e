import { DeepspError, OptionError } from "../../core/errors.ts";
import type { Floats } from "../../nn/kernels/types.ts";
import { type FirFilter, firBackward, firForward } from "./filters.ts";
import type { Loss, LossConfig, LossShape } from "./types.ts";

/**
 * The shared machinery of every loss: shape checks at the public boundary, then `evaluate` over rows of
 * `stride` samples of which the first `start` are already dropped (by an enclosing sum), and `accumulate`,
 * which adds `scale` * d loss / d prediction (so a sum passes its weights down without scratch buffers).
 */
export abstract class LossBase implements Loss {
  abstract readonly name: string;
  private lastSize = -1;

  forward(prediction: Floats, target: Floats, shape: LossShape): number {
    const { batch, channels, length } = shape;
    checkDimension(this.name, "batch", batch);
    checkDimension(this.name, "channels", channels);
    checkDimension(this.name, "length", length);
    const size = batch * channels * length;
    if (prediction.length !== size || target.length !== size) {
      throw new OptionError(
        "loss/shape",
        `${this.name}: expected prediction and target of ${batch} * ${channels} * ${length} = ${size} samples, ` +
          `got ${prediction.length} and ${target.length}`,
      );
    }
    const value = this.evaluate(prediction, target, batch * channels, length, 0);
    this.lastSize = size;
    return value;
  }

  backward(gradient: Floats): void {
    if (this.lastSize < 0)
      throw new DeepspError("loss/order", `${this.name}: backward called before forward`);
    if (gradient.length !== this.lastSize) {
      throw new OptionError(
        "loss/shape",
        `${this.name}: gradient has ${gradient.length} samples, the last forward had ${this.lastSize}`,
      );
    }
    this.accumulate(gradient, 1);
  }

  abstract toConfig(): LossConfig;

  /**
   * The loss over `rows` rows of `stride` samples (prediction and target [rows, stride]), ignoring the first
   * `start` samples of every row. Keeps what `accumulate` needs.
   */
  abstract evaluate(prediction: Floats, target: Floats, rows: number, stride: number, start: number): number;

  /** gradient [rows, stride] += scale * d loss / d prediction, for the last `evaluate`. */
  abstract accumulate(gradient: Floats, scale: number): void;
}

function checkDimension(name: string, field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new OptionError("loss/shape", `${name}: shape.${field}: expected an integer >= 1, got ${value}`);
  }
}

/**
 * A loss function over the cropped (and filtered) row segments, both [rows, n] float64 with n >= minLength:
 * prediction x, target y. `backward` adds d loss / d x into gx.
 */
export interface Criterion {
  readonly minLength: number;
  /** Message for a row segment shorter than `minLength` (naming the option responsible). */
  tooShort(n: number): string;
  forward(x: Float64Array, y: Float64Array, rows: number, n: number): number;
  backward(gx: Float64Array, x: Float64Array, y: Float64Array, rows: number, n: number): void;
}

/**
 * A single loss: drops the first `maskFirst` samples of every row, copies the rest into float64 scratch
 * (through the pre-emphasis filter, when there is one: zeros before the segment start), and applies the
 * criterion. Backward maps the criterion's gradient back through the filter's transpose into the rows.
 * Scratch buffers grow to the largest shape seen and are reused: no allocation per call after warm-up.
 */
export class RowLoss extends LossBase {
  readonly name: string;
  private readonly criterion: Criterion;
  private readonly filter: FirFilter | null;
  private readonly maskFirst: number;
  private readonly config: () => LossConfig;
  private x = new Float64Array(0);
  private y = new Float64Array(0);
  private gx = new Float64Array(0);
  private rows = 0;
  private stride = 0;
  private offset = 0;
  private n = 0;

  constructor(
    name: string,
    criterion: Criterion,
    filter: FirFilter | null,
    maskFirst: number,
    config: () => LossConfig,
  ) {
    super();
    this.name = name;
    this.criterion = criterion;
    this.filter = filter;
    this.maskFirst = maskFirst;
    this.config = config;
  }

  toConfig(): LossConfig {
    return this.config();
  }

  evaluate(prediction: Floats, target: Floats, rows: number, stride: number, start: number): number {
    const offset = start + this.maskFirst;
    const n = stride - offset;
    if (n < 1) {
      const dropped = start > 0 ? ` (after ${start} dropped by the enclosing sum)` : "";
      throw new OptionError(
        "loss/mask",
        `${this.name}: maskFirst: ${this.maskFirst} must be less than the row length ${stride - start}${dropped}`,
      );
    }
    if (n < this.criterion.minLength) {
      throw new OptionError("loss/too-short", `${this.name}: ${this.criterion.tooShort(n)}`);
    }
    const size = rows * n;
    if (this.x.length < size) {
      this.x = new Float64Array(size);
      this.y = new Float64Array(size);
      this.gx = new Float64Array(size);
    }
    const { x, y, filter } = this;
    for (let r = 0; r < rows; r++) {
      const from = r * stride + offset;
      const to = r * n;
      if (filter) {
        firForward(x, to, prediction, from, n, filter);
        firForward(y, to, target, from, n, filter);
      } else {
        for (let i = 0; i < n; i++) {
          x[to + i] = prediction[from + i]!;
          y[to + i] = target[from + i]!;
        }
      }
    }
    this.rows = rows;
    this.stride = stride;
    this.offset = offset;
    this.n = n;
    return this.criterion.forward(x, y, rows, n);
  }

  accumulate(gradient: Floats, scale: number): void {
    const { rows, stride, offset, n, gx, filter } = this;
    gx.fill(0, 0, rows * n);
    this.criterion.backward(gx, this.x, this.y, rows, n);
    for (let r = 0; r < rows; r++) {
      const to = r * stride + offset;
      const from = r * n;
      if (filter) {
        firBackward(gradient, to, gx, from, n, filter, scale);
      } else {
        for (let i = 0; i < n; i++) gradient[to + i]! += scale * gx[from + i]!;
      }
    }
  }
}

/** A weighted sum of losses: sum_i weight_i loss_i, after dropping its own `maskFirst` samples per row. */
export class SumLoss extends LossBase {
  readonly name: string;
  readonly terms: readonly { weight: number; loss: LossBase }[];
  private readonly maskFirst: number;
  /** Each term's value (unweighted) from the last forward, for logging. */
  readonly values: Float64Array;

  constructor(terms: readonly { weight: number; loss: LossBase }[], maskFirst: number) {
    super();
    this.terms = terms;
    this.maskFirst = maskFirst;
    this.values = new Float64Array(terms.length);
    const body = terms.map((t) => `${t.weight}*${t.loss.name}`).join(" + ");
    this.name = maskFirst > 0 ? `(${body})[mask ${maskFirst}]` : body;
  }

  toConfig(): LossConfig {
    return {
      type: "sum",
      maskFirst: this.maskFirst,
      terms: this.terms.map((t) => ({ weight: t.weight, loss: t.loss.toConfig() })),
    };
  }

  evaluate(prediction: Floats, target: Floats, rows: number, stride: number, start: number): number {
    const offset = start + this.maskFirst;
    if (offset >= stride) {
      throw new OptionError(
        "loss/mask",
        `${this.name}: maskFirst: ${this.maskFirst} must be less than the row length ${stride - start}`,
      );
    }
    let total = 0;
    for (let i = 0; i < this.terms.length; i++) {
      const term = this.terms[i]!;
      const value = term.loss.evaluate(prediction, target, rows, stride, offset);
      this.values[i] = value;
      total += term.weight * value;
    }
    return total;
  }

  accumulate(gradient: Floats, scale: number): void {
    for (let i = 0; i < this.terms.length; i++) {
      const term = this.terms[i]!;
      if (term.weight !== 0) term.loss.accumulate(gradient, scale * term.weight);
    }
  }
}
