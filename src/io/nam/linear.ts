/**
 * NAM "Linear" (an FIR filter) <-> deepsp `linear`.
 *
 * NAM config: { "receptive_field": taps, "bias": boolean } (+ "in_channels", "out_channels", "implementation"
 * in newer files). Weights: `receptive_field` taps, then the bias when `bias` is true.
 */

import { LinearModel } from "../../nn/models/linear.ts";
import type { Model } from "../../nn/models/model.ts";
import type { LinearModelConfig } from "../../nn/models/registry.ts";
import { refuseUnknownFields, requireMono } from "./fields.ts";
import { NamError, WeightReader } from "./file.ts";

export type NamLinearConfig = {
  receptive_field: number;
  bias: boolean;
};

const KNOWN_FIELDS = ["receptive_field", "bias", "in_channels", "out_channels", "implementation"] as const;

/**
 * The reversed-taps quirk. NAM core reads Linear weights as an impulse response, newest sample first:
 * y[t] = bias + sum_i weights[i] * x[t - i] (NAM/linear.cpp reverses them for its dot product and uses them
 * as-is for its FFT path); deepsp's fir.weight is oldest first (PyTorch conv order). The same reversal turns
 * either order into the other. NAM's trainer (nam/models/linear.py) writes its Conv1d kernel unreversed, so
 * the core plays trainer-made multi-tap Linear files time-reversed (neural-amp-modeler issue #696): deepsp
 * follows the core, which is what plays the files.
 */
export function reverseTaps(taps: ArrayLike<number>): Float32Array {
  const reversed = new Float32Array(taps.length);
  for (let i = 0; i < taps.length; i++) reversed[i] = taps[taps.length - 1 - i]!;
  return reversed;
}

/** A mono deepsp linear model as a NAM Linear config and weight list. */
export function namLinearFromModel(
  model: Model,
  config: LinearModelConfig,
): { config: NamLinearConfig; weights: number[] } {
  const weights = Array.from(reverseTaps(model.parameters.value("fir.weight")));
  if (config.bias) weights.push(model.parameters.value("fir.bias")[0]!);
  return { config: { receptive_field: config.taps, bias: config.bias }, weights };
}

/** A NAM Linear file's config and weights as a deepsp linear model; errors name `source`'s fields. */
export function linearModelFromNam(
  config: Record<string, unknown>,
  weights: readonly number[],
  source: string,
): LinearModel {
  const where = `${source}: config`;
  refuseUnknownFields(config, KNOWN_FIELDS, where);
  requireMono(config, where);
  const taps = config["receptive_field"];
  if (!(typeof taps === "number" && Number.isInteger(taps) && taps >= 1)) {
    throw new NamError(
      "nam/config",
      `${where}.receptive_field: expected a whole number >= 1, got ${JSON.stringify(taps)}`,
    );
  }
  const bias = config["bias"];
  if (typeof bias !== "boolean") {
    throw new NamError("nam/config", `${where}.bias: expected true or false, got ${JSON.stringify(bias)}`);
  }
  // "implementation" only picks direct or FFT convolution in the core: the same filter either way.
  const model = new LinearModel({ taps, bias, channels: 1 });
  const reader = new WeightReader(weights, source);
  model.parameters.value("fir.weight").set(reverseTaps(reader.take(taps, "the taps")));
  if (bias) model.parameters.value("fir.bias")[0] = reader.next("the bias");
  reader.finish();
  return model;
}
