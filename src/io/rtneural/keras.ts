/**
 * PyTorch (deepsp) <-> Keras tensor layouts, as RTNeural JSON stores them (RTNeural/model_loader.h reads
 * Keras's `layer.get_weights()`; RTNeural/torch_helpers.h converts PyTorch's). All arrays here are flat and
 * row-major.
 */

/**
 * The transposition quirk. PyTorch keeps a layer's weights [outputs][inputs] (LSTM/GRU weight_ih
 * [gates * H][I], weight_hh [gates * H][H]; the head [1][H]); Keras keeps kernels [inputs][outputs] (kernel
 * [I][gates * H], recurrent_kernel [H][gates * H]; the dense kernel [H][1]). [rows][cols] -> [cols][rows],
 * so the same call converts either way (with rows and cols swapped).
 */
export function transposeMatrix(values: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  }
  return out;
}

/**
 * The GRU gate-order quirk. PyTorch orders a GRU's gate blocks r (reset), z (update), n (new); Keras orders
 * them z, r, h (RTNeural/gru/gru.tpp reads z, r, c; torch_helpers.h `swap_rz`). Swapping the first two
 * blocks of `hidden` rows converts either way. `values`: [3 * hidden][cols] in PyTorch's gate-major layout
 * (a weight before transposing, or a bias with cols 1).
 */
export function swapGruGates(values: ArrayLike<number>, hidden: number, cols = 1): Float32Array {
  const block = hidden * cols;
  const out = Float32Array.from(values);
  for (let k = 0; k < block; k++) {
    out[k] = values[block + k]!;
    out[block + k] = values[k]!;
  }
  return out;
}

/** A flat [rows][cols] array as nested JSON arrays. */
export function nestRows(values: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => values[r * cols + c]!),
  );
}
