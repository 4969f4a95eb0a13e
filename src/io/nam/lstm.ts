/**
 * NAM "LSTM" <-> deepsp `lstm` (mono, no input skip).
 *
 * NAM config: { "input_size": 1, "hidden_size": H, "num_layers": L } (+ "in_channels", "out_channels" in newer
 * files). Weights (nam/models/recurrent.py `_export_weights`, read by NAM/lstm.cpp in the same order):
 *   per layer l (inputs I = 1 for layer 0, else H):
 *     W [4H, I + H] row-major: row r = [weight_ih[r, :], weight_hh[r, :]]   (joined matrix quirk)
 *     b [4H] = bias_ih + bias_hh                                            (summed bias quirk)
 *     initial hidden state [H], initial cell state [H]                     (initial state quirk)
 *   head weight [H], head bias [1].
 * Gate rows are i, f, g, o in both (PyTorch's order); NAM's output is head(h) with no input skip.
 */
import { sequence } from "../../nn/layers/sequence.ts";
import type { Model } from "../../nn/models/model.ts";
import type { RnnModelConfig } from "../../nn/models/registry.ts";
import { RnnModel } from "../../nn/models/rnn.ts";
import { setSummedLstmBias, sumLstmBiases } from "../lstm-bias.ts";
import { ConfigFields, requireMono } from "./fields.ts";
import { NamError, WeightReader } from "./file.ts";

export type NamLstmConfig = {
  input_size: number;
  hidden_size: number;
  num_layers: number;
};

const KNOWN_FIELDS = ["input_size", "hidden_size", "num_layers", "in_channels", "out_channels"] as const;

/**
 * Samples of silence NAM's trainer runs from zero state to find the initial state it stores
 * (nam/models/recurrent.py `_get_initial_state_burn_in`): a file's state is the model's state after this
 * much silence, whatever the sample rate.
 */
export const NAM_LSTM_BURN_IN_SAMPLES = 48_000;

/**
 * The joined-matrix quirk: weight_ih [4H, I] and weight_hh [4H, H] (row-major) as NAM's one matrix
 * [4H, I + H] (row-major), each row the input weights then the hidden weights.
 */
export function joinLstmWeights(
  weightIh: ArrayLike<number>,
  weightHh: ArrayLike<number>,
  inputs: number,
  hidden: number,
): Float32Array {
  const columns = inputs + hidden;
  const joined = new Float32Array(4 * hidden * columns);
  for (let r = 0; r < 4 * hidden; r++) {
    for (let i = 0; i < inputs; i++) joined[r * columns + i] = weightIh[r * inputs + i]!;
    for (let k = 0; k < hidden; k++) joined[r * columns + inputs + k] = weightHh[r * hidden + k]!;
  }
  return joined;
}

/** The inverse of joinLstmWeights. */
export function splitLstmWeights(
  joined: ArrayLike<number>,
  inputs: number,
  hidden: number,
): { weightIh: Float32Array; weightHh: Float32Array } {
  const columns = inputs + hidden;
  const weightIh = new Float32Array(4 * hidden * inputs);
  const weightHh = new Float32Array(4 * hidden * hidden);
  for (let r = 0; r < 4 * hidden; r++) {
    for (let i = 0; i < inputs; i++) weightIh[r * inputs + i] = joined[r * columns + i]!;
    for (let k = 0; k < hidden; k++) weightHh[r * hidden + k] = joined[r * columns + inputs + k]!;
  }
  return { weightIh, weightHh };
}

/**
 * The initial-state quirk: each layer's state [hidden] after NAM_LSTM_BURN_IN_SAMPLES of silence from zero
 * state, as NAM's trainer computes the state it stores. Runs in chunks with the state carried (the same
 * arithmetic as one long run, without 48000 x 4H of saved gates); leaves the model reset.
 */
function stateAfterSilence(model: RnnModel): { h: Float32Array; c: Float32Array }[] {
  const chunk = 4800;
  const zeros = new Float32Array(chunk);
  model.setCarryState(true);
  model.resetState();
  for (let done = 0; done < NAM_LSTM_BURN_IN_SAMPLES; done += chunk) {
    const length = Math.min(chunk, NAM_LSTM_BURN_IN_SAMPLES - done);
    model.forward(sequence(zeros.subarray(0, length), 1, 1, length));
  }
  const states = model.rnn.map((layer) => {
    const { h, c } = layer.finalState();
    return { h: Float32Array.from(h), c: Float32Array.from(c!) };
  });
  model.setCarryState(false);
  model.resetState();
  return states;
}

/**
 * A mono deepsp lstm without input skip as a NAM LSTM config and weight list. The stored initial states
 * are computed on the model as a reader rebuilds it from these weights (summed biases), so exporting an
 * imported file gives the same weights again.
 */
export function namLstmFromModel(
  model: Model,
  config: RnnModelConfig,
): { config: NamLstmConfig; weights: number[] } {
  const { hidden, layers } = config;
  const namConfig: NamLstmConfig = { input_size: 1, hidden_size: hidden, num_layers: layers };
  const weights: number[] = [];
  const stateOffsets: number[] = [];
  const append = (values: ArrayLike<number>) => {
    for (let k = 0; k < values.length; k++) weights.push(values[k]!);
  };
  for (let l = 0; l < layers; l++) {
    const tensor = (name: string) => model.parameters.value(`rnn.${l}.${name}`);
    append(joinLstmWeights(tensor("weight_ih"), tensor("weight_hh"), l === 0 ? 1 : hidden, hidden));
    append(sumLstmBiases(tensor("bias_ih"), tensor("bias_hh")));
    stateOffsets.push(weights.length);
    append(new Float32Array(2 * hidden));
  }
  append(model.parameters.value("head.weight"));
  append(model.parameters.value("head.bias"));
  const states = stateAfterSilence(lstmModelFromNam(namConfig, weights, "the exported LSTM"));
  states.forEach(({ h, c }, l) => {
    weights.splice(stateOffsets[l]!, 2 * hidden, ...h, ...c);
  });
  return { config: namConfig, weights };
}

/**
 * A NAM LSTM file's config and weights as a deepsp lstm (inputSkip false). The stored initial state is read
 * and dropped: deepsp's LSTM starts from zero state. For trainer-made files that state is the state after
 * NAM_LSTM_BURN_IN_SAMPLES of silence, so a deepsp run preceded by that much silence matches NAM core.
 */
export function lstmModelFromNam(
  config: Record<string, unknown>,
  weights: readonly number[],
  source: string,
): RnnModel {
  const fields = ConfigFields.of(config, `${source}: config`);
  fields.refuseUnknown(KNOWN_FIELDS);
  requireMono(fields);
  const inputSize = fields.int("input_size");
  if (inputSize !== 1) {
    throw new NamError(
      "nam/unsupported",
      `${fields.at("input_size")}: ${inputSize}: inputs beyond the audio are control inputs (a parametric model), which deepsp's lstm does not have`,
    );
  }
  const hidden = fields.int("hidden_size");
  const layers = fields.int("num_layers", undefined, 0);
  if (layers === 0) {
    throw new NamError(
      "nam/unsupported",
      `${fields.at("num_layers")}: 0 (NAM plays it as a pass-through): a deepsp lstm has at least one layer`,
    );
  }
  const model = new RnnModel({ cell: "lstm", hidden, layers, channels: 1, inputSkip: false });
  const reader = new WeightReader(weights, source);
  for (let l = 0; l < layers; l++) {
    const inputs = l === 0 ? 1 : hidden;
    const joined = reader.take(4 * hidden * (inputs + hidden), `layer ${l}'s weight matrix`);
    const { weightIh, weightHh } = splitLstmWeights(joined, inputs, hidden);
    model.parameters.value(`rnn.${l}.weight_ih`).set(weightIh);
    model.parameters.value(`rnn.${l}.weight_hh`).set(weightHh);
    setSummedLstmBias(model.parameters, `rnn.${l}`, reader.take(4 * hidden, `layer ${l}'s bias`));
    reader.take(2 * hidden, `layer ${l}'s initial hidden and cell state`);
  }
  model.parameters.value("head.weight").set(reader.take(hidden, "the head weights"));
  model.parameters.value("head.bias")[0] = reader.next("the head bias");
  reader.finish();
  return model;
}
