import { OptionError } from "../core/errors.ts";
import type { Floats } from "../nn/kernels/types.ts";
import type { Parameters } from "../nn/parameters.ts";

export interface AdamOptions {
  /** Step size. Default 1e-3. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
  /** Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): w -= lr * decay * w. Default 0 (plain Adam). */
  weightDecay?: number;
}

/** The optimizer's state, for checkpoints: moments in the parameters' layout and the step count. */
export interface AdamState {
  step: number;
  m: Floats;
  v: Floats;
}

/**
 * Adam (Kingma & Ba 2015) with bias correction, and AdamW's decoupled weight decay, over a model's flat
 * parameter buffer: one loop per unfrozen tensor, moments in the same layout (llm.c's gpt2_update).
 */
export class Adam {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly parameters: Parameters;
  private state: AdamState;

  constructor(parameters: Parameters, options: AdamOptions = {}) {
    this.learningRate = options.learningRate ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    const checks: [string, number, boolean][] = [
      ["learningRate", this.learningRate, this.learningRate > 0],
      ["beta1", this.beta1, this.beta1 >= 0 && this.beta1 < 1],
      ["beta2", this.beta2, this.beta2 >= 0 && this.beta2 < 1],
      ["epsilon", this.epsilon, this.epsilon > 0],
      ["weightDecay", this.weightDecay, this.weightDecay >= 0],
    ];
    for (const [name, value, ok] of checks) {
      if (!(ok && Number.isFinite(value)))
        throw new OptionError("options/invalid", `adam: ${name} is out of range, got ${value}`);
    }
    this.parameters = parameters;
    const ArrayType = parameters.values instanceof Float64Array ? Float64Array : Float32Array;
    this.state = { step: 0, m: new ArrayType(parameters.count), v: new ArrayType(parameters.count) };
  }

  /** One update from parameters.grads. */
  step(): void {
    const { values, grads } = this.parameters;
    const { m, v } = this.state;
    const t = ++this.state.step;
    const { beta1, beta2, epsilon, learningRate } = this;
    const correction1 = 1 - beta1 ** t;
    const correction2 = 1 - beta2 ** t;
    const decay = learningRate * this.weightDecay;
    for (const entry of this.parameters.entries) {
      if (entry.frozen) continue;
      const end = entry.offset + entry.size;
      for (let i = entry.offset; i < end; i++) {
        const g = grads[i]!;
        const mi = beta1 * m[i]! + (1 - beta1) * g;
        const vi = beta2 * v[i]! + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        values[i] =
          values[i]! -
          decay * values[i]! -
          (learningRate * (mi / correction1)) / (Math.sqrt(vi / correction2) + epsilon);
      }
    }
  }

  /** A copy of the moments and step count (for checkpoints). */
  saveState(): AdamState {
    return { step: this.state.step, m: this.state.m.slice(), v: this.state.v.slice() };
  }

  loadState(state: AdamState): void {
    if (state.m.length !== this.parameters.count || state.v.length !== this.parameters.count) {
      throw new OptionError(
        "options/invalid",
        `adam state has ${state.m.length} moments, the model has ${this.parameters.count} parameters`,
      );
    }
    this.state = { step: state.step, m: state.m.slice(), v: state.v.slice() };
  }
}

/**
 * Scales all unfrozen gradients so their global L2 norm is at most `maxNorm` (Pascanu et al. 2013), as
 * torch.nn.utils.clip_grad_norm_ does; returns the norm before clipping (worth logging: a spike warns of
 * divergence).
 */
export function clipGradientNorm(parameters: Parameters, maxNorm: number): number {
  const { grads } = parameters;
  let sum = 0;
  for (const entry of parameters.entries) {
    if (entry.frozen) continue;
    for (let i = entry.offset; i < entry.offset + entry.size; i++) sum += grads[i]! * grads[i]!;
  }
  const norm = Math.sqrt(sum);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const entry of parameters.entries) {
      if (entry.frozen) continue;
      for (let i = entry.offset; i < entry.offset + entry.size; i++) grads[i] = grads[i]! * scale;
    }
  }
  return norm;
}
