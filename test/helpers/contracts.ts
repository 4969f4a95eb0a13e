import assert from "node:assert/strict";
import type { Layer } from "../../src/nn/layers/layer.ts";
import type { Sequence } from "../../src/nn/layers/sequence.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { Parameters } from "../../src/nn/parameters.ts";
import { gradcheck, Rng, randomArray, weightedSum } from "./gradcheck.ts";

/** A random float64 sequence [batch, channels, length]. */
export function randomSequence(batch: number, channels: number, length: number, rng: Rng): Sequence {
  return { data: randomArray(batch * channels * length, rng), batch, channels, length };
}

/**
 * The layer contract: bind the layer to float64 parameters, then check d(sum r * forward(x)) with respect
 * to every parameter and to the input against central finite differences. Returns the output shape.
 */
export function checkLayerGradients(layer: Layer, input: Sequence, seed: number): Sequence {
  const parameters = new Parameters(layer.parameterSpecs(), "float64");
  parameters.initialize(seed);
  layer.bind(parameters);
  const rng = new Rng(seed + 1);
  const first = layer.forward(input);
  const r = randomArray(first.data.length, rng);
  const loss = () => weightedSum(layer.forward(input).data, r);
  loss();
  parameters.zeroGrads();
  const dInput = layer.backward({ ...first, data: r }, true);
  assert.ok(dInput, "backward returns the input gradient when asked");
  assert.equal(dInput.data.length, input.data.length);
  const inputGrad = Float64Array.from(dInput.data);
  gradcheck(loss, [
    {
      name: `${layer.name} parameters`,
      values: parameters.values as Float64Array,
      grad: parameters.grads as Float64Array,
    },
    { name: `${layer.name} input`, values: input.data as Float64Array, grad: inputGrad },
  ]);
  return { ...first, data: new Float64Array(0) };
}

/** The model contract: d(sum r * forward(x)) with respect to every parameter, against finite differences. */
export function checkModelGradients(model: Model, input: Sequence, seed: number): void {
  const rng = new Rng(seed);
  const first = model.forward(input);
  const r = randomArray(first.data.length, rng);
  const loss = () => weightedSum(model.forward(input).data, r);
  loss();
  model.parameters.zeroGrads();
  model.backward({ ...first, data: r });
  gradcheck(loss, [
    {
      name: `${model.architecture} parameters`,
      values: model.parameters.values as Float64Array,
      grad: Float64Array.from(model.parameters.grads),
    },
  ]);
}
