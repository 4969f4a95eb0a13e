import type { Parameters } from "../nn/parameters.ts";

/**
 * The summed-LSTM-bias quirk, shared by .nam and RTNeural/Keras files. PyTorch (and deepsp) keep two bias
 * vectors per LSTM layer, bias_ih and bias_hh [4 * hidden], that every gate adds together; NAM
 * (nam/models/recurrent.py `_export_cell_weights`, read by NAM/lstm.cpp) and Keras (one `bias` per LSTM
 * layer; RTNeural/torch_helpers.h `loadLSTM` adds the two) store only the sum.
 */

/** bias_ih + bias_hh, rounded to float32 as PyTorch's float32 addition rounds it. */
export function sumLstmBiases(biasIh: ArrayLike<number>, biasHh: ArrayLike<number>): Float32Array {
  const sum = new Float32Array(biasIh.length);
  for (let k = 0; k < sum.length; k++) sum[k] = biasIh[k]! + biasHh[k]!;
  return sum;
}

/**
 * Sets layer `prefix` (e.g. "rnn.0") from a summed bias: the sum goes to bias_ih and bias_hh becomes zeros
 * (NAM's own importer makes the same choice), so the gates see the same total bias; the split between the
 * two is lost, which changes nothing but the float rounding order inside the gate sums.
 */
export function setSummedLstmBias(parameters: Parameters, prefix: string, bias: ArrayLike<number>): void {
  parameters.value(`${prefix}.bias_ih`).set(bias);
  parameters.value(`${prefix}.bias_hh`).fill(0);
}
