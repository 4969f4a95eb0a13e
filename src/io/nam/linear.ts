/**
 * NAM "Linear" (an FIR filter) <-> deepsp `linear`.
 *
 * NAM config: { "receptive_field": taps, "bias": boolean } (+ "in_channels", "out_channels", "implementation"
 * in newer files). Weights: `receptive_field` taps, then the bias when `bias` is true.
 */

import { LinearModel } from "../../nn/models/linear.ts";
import type { Model } from "../../nn/models/model.ts";
import type { LinearModelConfig } from "../../nn/models/registry.ts";
import { ConfigFields, requireMono } from "./fields.ts";
import { WeightReader } from "./file.ts";
import { reverseTaps } from "./layout.ts";

export type NamLinearConfig = {
  receptive_field: number;
  bias: boolean;
};

const KNOWN_FIELDS = ["receptive_field", "bias", "in_channels", "out_channels", "implementation"] as const;

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
  const fields = ConfigFields.of(config, `${source}: config`);
  fields.refuseUnknown(KNOWN_FIELDS);
  requireMono(fields);
  const taps = fields.int("receptive_field");
  const bias = fields.bool("bias");
  // "implementation" only picks direct or FFT convolution in the core: the same filter either way.
  const model = new LinearModel({ taps, bias, channels: 1 });
  const reader = new WeightReader(weights, source);
  model.parameters.value("fir.weight").set(reverseTaps(reader.take(taps, "the taps")));
  if (bias) model.parameters.value("fir.bias")[0] = reader.next("the bias");
  reader.finish();
  return model;
}
