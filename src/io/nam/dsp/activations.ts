import { activateRows as activateRuntimeRows } from "../../../runtime/kernels.ts";
import { activationCode } from "../../../runtime/wasm/kernels.ts";
import { ConfigFields, configError, invalid } from "../fields.ts";

/*
 * NAM core's activations (NAM/activations.h, activations.cpp), exact: Math.tanh / Math.exp where the core calls
 * std::tanh / expf. The core's optional fast tanh (its `enable_fast_tanh()` switch, off by default) is not
 * modelled; "Fasttanh" named in a file is that activation's definition and is computed as such.
 */

export type ActivationKind =
  | "tanh"
  | "hardtanh"
  | "fasttanh"
  | "relu"
  | "leakyRelu"
  | "prelu"
  | "sigmoid"
  | "silu"
  | "hardswish"
  | "leakyHardtanh"
  | "softsign";

export interface NamActivation {
  readonly kind: ActivationKind;
  /** leakyRelu / prelu: one negative slope for every channel, or (prelu) one per channel. */
  readonly slopes: Float64Array;
  /** leakyHardtanh: [minVal, maxVal, minSlope, maxSlope]. */
  readonly bounds: Float64Array;
}

const NAMES: Record<string, ActivationKind> = {
  Tanh: "tanh",
  Hardtanh: "hardtanh",
  Fasttanh: "fasttanh",
  ReLU: "relu",
  LeakyReLU: "leakyRelu",
  PReLU: "prelu",
  Sigmoid: "sigmoid",
  SiLU: "silu",
  Hardswish: "hardswish",
  LeakyHardtanh: "leakyHardtanh",
  LeakyHardTanh: "leakyHardtanh",
  Softsign: "softsign",
};

/** Default slope of LeakyReLU and PReLU, and the slopes of LeakyHardtanh (0.01f in activations.cpp). */
const SLOPE = Math.fround(0.01);

export const SIGMOID: NamActivation = activation("sigmoid");

function activation(kind: ActivationKind, slopes = [SLOPE], bounds = [-1, 1, SLOPE, SLOPE]): NamActivation {
  return {
    kind,
    slopes: Float64Array.from(slopes, Math.fround),
    bounds: Float64Array.from(bounds, Math.fround),
  };
}

/**
 * An activation as NAM's `ActivationConfig::from_json` reads it: a name ("Tanh"), or an object with "type" and
 * the type's parameters (LeakyReLU: negative_slope; PReLU: negative_slope or negative_slopes; LeakyHardtanh:
 * min_val, max_val, min_slope, max_slope).
 */
export function parseActivation(value: unknown, path: string): NamActivation {
  if (typeof value === "string") return activation(kindOf(value, path));
  const fields = ConfigFields.of(value, path);
  const kind = kindOf(fields.string("type"), fields.at("type"));
  let result: NamActivation;
  if (kind === "leakyRelu") {
    result = activation(kind, [fields.float("negative_slope", SLOPE)]);
  } else if (kind === "prelu") {
    // activations.cpp: negative_slope wins over negative_slopes when both are given.
    if (fields.has("negative_slope")) {
      result = activation(kind, [fields.float("negative_slope")]);
      fields.skip("negative_slopes");
    } else if (fields.has("negative_slopes")) {
      const slopes = fields.array("negative_slopes");
      if (slopes.length === 0 || !slopes.every((s) => typeof s === "number" && Number.isFinite(s))) {
        throw configError(fields.at("negative_slopes"), "a non-empty array of numbers", slopes);
      }
      result = activation(kind, slopes as number[]);
    } else {
      result = activation(kind);
    }
  } else if (kind === "leakyHardtanh") {
    const bounds = [
      fields.float("min_val", -1),
      fields.float("max_val", 1),
      fields.float("min_slope", SLOPE),
      fields.float("max_slope", SLOPE),
    ];
    result = activation(kind, [SLOPE], bounds);
  } else {
    result = activation(kind);
  }
  fields.finish();
  return result;
}

function kindOf(name: string, path: string): ActivationKind {
  const kind = NAMES[name];
  if (kind === undefined) {
    throw invalid(
      path,
      `unknown activation ${JSON.stringify(name)} (known: ${Object.keys(NAMES).join(", ")})`,
    );
  }
  return kind;
}

/**
 * Checks that a PReLU's slopes fit the `channels` it is applied to. NAM core applies an activation to a
 * column-major block as a flat array (slope index = element index mod slope count: channel c when the count is 1
 * or the channel count) but a gate's halves column by column (slope index = channel, so a gate needs one slope
 * per channel); anything else reads slopes meant for other channels or past the list's end.
 */
export function checkActivationChannels(
  act: NamActivation,
  channels: number,
  gate: boolean,
  path: string,
): void {
  if (act.kind !== "prelu") return;
  const count = act.slopes.length;
  if (count === channels || (count === 1 && !gate)) return;
  throw invalid(
    path,
    `PReLU has ${count} negative slope(s) but is applied to ${channels} channel(s)${gate ? " in a gate (one slope per channel needed)" : ""}`,
  );
}

/**
 * `act` as the wasm kernels' activation code and negative slope (src/runtime/wasm/kernels.ts), or null where they
 * lack it (PReLU with a slope per channel, Hardswish, LeakyHardtanh, the fast tanh). `exact`: tanh, sigmoid and
 * SiLU in float64, rounded once (as Math.tanh / Math.exp here); else fastmath.ts's (max abs error ~1e-7).
 */
export function wasmActivation(act: NamActivation, exact: boolean): { code: number; slope: number } | null {
  switch (act.kind) {
    case "tanh":
    case "hardtanh":
    case "sigmoid":
    case "silu":
    case "softsign":
    case "relu":
      return { code: activationCode(act.kind, exact), slope: 0 };
    case "leakyRelu":
    case "prelu":
      return act.slopes.length === 1 ? { code: activationCode("leakyRelu"), slope: act.slopes[0]! } : null;
    default:
      return null;
  }
}

/** In place: data[at + c * stride + t] = f(...) for c < channels, t < frames. */
export function activateRows(
  act: NamActivation,
  data: Float32Array,
  at: number,
  stride: number,
  channels: number,
  frames: number,
): void {
  switch (act.kind) {
    case "tanh":
    case "hardtanh":
    case "sigmoid":
    case "silu":
    case "softsign":
      // The runtime's loops compute these exactly as activations.h does.
      activateRuntimeRows(data, at, stride, channels, frames, act.kind);
      return;
    default:
      for (let c = 0; c < channels; c++) activateRow(act, c, data, at + c * stride, frames);
  }
}

/** The activations NAM core has and the runtime does not (or computes differently). */
function activateRow(act: NamActivation, channel: number, y: Float32Array, at: number, frames: number): void {
  const end = at + frames;
  switch (act.kind) {
    case "fasttanh":
      // activations.h fast_tanh, a rational approximation (|error| up to ~6e-3 against tanh).
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        const a = Math.abs(v);
        const v2 = v * v;
        y[i] =
          (v * (2.45550750702956 + 2.45550750702956 * a + (0.893229853513558 + 0.821226666969744 * a) * v2)) /
          (2.44506634652299 + (2.44506634652299 + v2) * Math.abs(v + 0.814642734961073 * v * a));
      }
      return;
    case "relu":
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        // biome-ignore lint/complexity/useMathMinMax: NaN -> 0, as activations.h relu (Math.max keeps NaN)
        y[i] = v > 0 ? v : 0;
      }
      return;
    case "leakyRelu":
    case "prelu": {
      const slopes = act.slopes;
      const slope = slopes[slopes.length === 1 ? 0 : channel]!;
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        y[i] = v > 0 ? v : slope * v;
      }
      return;
    }
    case "hardswish":
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        y[i] = (v * Math.min(Math.max(v + 3, 0), 6)) / 6;
      }
      return;
    case "leakyHardtanh": {
      const b = act.bounds;
      const lo = b[0]!;
      const hi = b[1]!;
      const loSlope = b[2]!;
      const hiSlope = b[3]!;
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        y[i] = v < lo ? (v - lo) * loSlope + lo : v > hi ? (v - hi) * hiSlope + hi : v;
      }
      return;
    }
  }
}
