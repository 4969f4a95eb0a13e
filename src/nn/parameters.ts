import { DeepspError } from "../core/errors.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import type { Floats } from "./kernels/types.ts";

/** How a tensor starts. "uniform": U(-bound, bound), PyTorch's default for Linear, Conv1d, LSTM and GRU. */
export type Init =
  | { kind: "uniform"; bound: number }
  | { kind: "normal"; std: number }
  | { kind: "constant"; value: number };

export interface ParameterSpec {
  /** Stable dotted name ("layers.0.conv.weight"): it becomes the tensor name in model files. */
  name: string;
  shape: number[];
  init: Init;
}

export interface ParameterEntry extends ParameterSpec {
  /** Start index in the flat buffers. */
  offset: number;
  size: number;
  /** Frozen tensors keep their values: the optimizer skips them (transfer learning). */
  frozen: boolean;
}

export type FloatType = "float32" | "float64";

/**
 * All parameters of a model in one flat array, with named views (llm.c's ParameterTensors). Gradients
 * (and the optimizer's moments) use the same layout, so an optimizer step is one loop and saving is one
 * copy. float64 exists for gradient checks of whole layers and models.
 */
export class Parameters {
  readonly values: Floats;
  readonly grads: Floats;
  readonly entries: readonly ParameterEntry[];
  private readonly byName: Map<string, ParameterEntry>;

  constructor(specs: readonly ParameterSpec[], floatType: FloatType = "float32") {
    const entries: ParameterEntry[] = [];
    const byName = new Map<string, ParameterEntry>();
    let offset = 0;
    for (const spec of specs) {
      if (byName.has(spec.name))
        throw new DeepspError("model/duplicate-parameter", `two parameters are named "${spec.name}"`);
      const size = spec.shape.reduce((product, dimension) => product * dimension, 1);
      const entry = { ...spec, offset, size, frozen: false };
      entries.push(entry);
      byName.set(spec.name, entry);
      offset += size;
    }
    const ArrayType = floatType === "float64" ? Float64Array : Float32Array;
    this.values = new ArrayType(offset);
    this.grads = new ArrayType(offset);
    this.entries = entries;
    this.byName = byName;
  }

  get count(): number {
    return this.values.length;
  }

  get floatType(): FloatType {
    return this.values instanceof Float64Array ? "float64" : "float32";
  }

  entry(name: string): ParameterEntry {
    const entry = this.byName.get(name);
    if (!entry) throw new DeepspError("model/unknown-parameter", `no parameter named "${name}"`);
    return entry;
  }

  /** The values of one tensor (a view: writes go to the flat buffer). */
  value(name: string): Floats {
    const { offset, size } = this.entry(name);
    return this.values.subarray(offset, offset + size);
  }

  /** The gradient of one tensor (a view). */
  grad(name: string): Floats {
    const { offset, size } = this.entry(name);
    return this.grads.subarray(offset, offset + size);
  }

  /** Fills every tensor from its init rule; each tensor draws from its own stream seeded by (seed, name). */
  initialize(seed: number): void {
    for (const entry of this.entries) {
      const rng = new Rng(deriveSeed(seed, entry.name));
      const view = this.values.subarray(entry.offset, entry.offset + entry.size);
      const { init } = entry;
      for (let i = 0; i < view.length; i++) {
        view[i] =
          init.kind === "uniform"
            ? rng.uniform(-init.bound, init.bound)
            : init.kind === "normal"
              ? init.std * rng.normal()
              : init.value;
      }
    }
  }

  zeroGrads(): void {
    this.grads.fill(0);
  }

  /** Freezes (or unfreezes) every tensor whose name starts with one of the prefixes; returns how many. */
  setFrozen(prefixes: readonly string[], frozen: boolean): number {
    let changed = 0;
    for (const entry of this.entries) {
      if (prefixes.some((prefix) => entry.name.startsWith(prefix))) {
        entry.frozen = frozen;
        changed++;
      }
    }
    return changed;
  }
}

/** PyTorch's default bound 1 / sqrt(fanIn) for Linear/Conv weights and biases (kaiming_uniform with a = sqrt(5)). */
export function fanInInit(fanIn: number): Init {
  return { kind: "uniform", bound: 1 / Math.sqrt(fanIn) };
}
