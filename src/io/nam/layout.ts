/*
 * .nam weight-layout quirks that both the converters (src/io/nam/*.ts) and the player (src/io/nam/dsp) need,
 * kept free of deepsp model classes so the player does not import them.
 */

/**
 * The reversed-taps quirk. NAM core reads Linear weights as an impulse response, newest sample first:
 * y[t] = bias + sum_i weights[i] * x[t - i] (NAM/linear.cpp reverses them for its dot product and uses them
 * as-is for its FFT path); deepsp's fir.weight and runtime convBlock's kernel are oldest first (PyTorch conv
 * order). The same reversal turns either order into the other. NAM's trainer (nam/models/linear.py) writes its
 * Conv1d kernel unreversed, so the core plays trainer-made multi-tap Linear files time-reversed
 * (neural-amp-modeler issue #696): deepsp follows the core, which is what plays the files.
 */
export function reverseTaps(taps: ArrayLike<number>): Float32Array {
  const reversed = new Float32Array(taps.length);
  for (let i = 0; i < taps.length; i++) reversed[i] = taps[taps.length - 1 - i]!;
  return reversed;
}
