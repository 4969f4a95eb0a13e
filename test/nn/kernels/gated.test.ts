import assert from "node:assert/strict";
import { test } from "node:test";
import * as js from "../../../src/nn/kernels/js/gated.ts";
import * as ref from "../../../src/nn/kernels/reference/gated.ts";
import { assertClose, gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

const SHAPES = [
  { batch: 1, channels: 1, length: 1 },
  { batch: 2, channels: 3, length: 5 },
  { batch: 3, channels: 16, length: 40 },
];

/** Inputs over several scales, with the corners: 0, tiny, saturating and far past saturation. */
function inputs(count: number, rng: Rng): Float64Array {
  const corners = [0, -0, 1e-300, -1e-12, 1e-6, 0.5, -3, 19, -19, 40, -40, 80, -81, 700, -745, 1e6, -1e6];
  return Float64Array.from({ length: count }, (_, i) =>
    i < corners.length ? corners[i]! : rng.uniform(-1, 1) * [0.01, 1, 4, 30][i % 4]!,
  );
}

test("gated: fast equals reference in float64 to ~1e-15 (forward, and backward adding into dx)", () => {
  const rng = new Rng(21);
  for (const { batch, channels, length } of SHAPES) {
    const x = inputs(batch * 2 * channels * length, rng);
    const dy = randomArray(batch * channels * length, rng);
    const y = [new Float64Array(dy.length).fill(5), new Float64Array(dy.length)];
    js.gatedForward(y[0]!, x, batch, channels, length);
    ref.gatedForward(y[1]!, x, batch, channels, length);
    assertClose(y[0]!, y[1]!, { atol: 1e-15, rtol: 1e-13, what: "y" });
    const dx0 = randomArray(x.length, rng);
    const dx = [dx0.slice(), dx0.slice()];
    js.gatedBackward(dx[0]!, dy, x, batch, channels, length);
    ref.gatedBackward(dx[1]!, dy, x, batch, channels, length);
    assertClose(dx[0]!, dx[1]!, { atol: 1e-15, rtol: 1e-13, what: "dx" });
  }
});

test("gated: fast float32 equals reference float32", () => {
  const rng = new Rng(22);
  for (const { batch, channels, length } of SHAPES) {
    const x = Float32Array.from(inputs(batch * 2 * channels * length, rng));
    const dy = Float32Array.from(randomArray(batch * channels * length, rng));
    const y = [new Float32Array(dy.length), new Float32Array(dy.length)];
    js.gatedForward(y[0]!, x, batch, channels, length);
    ref.gatedForward(y[1]!, x, batch, channels, length);
    assertClose(y[0]!, y[1]!, { atol: 1e-7, rtol: 1e-6, what: "y f32" });
    const dx = [new Float32Array(x.length), new Float32Array(x.length)];
    js.gatedBackward(dx[0]!, dy, x, batch, channels, length);
    ref.gatedBackward(dx[1]!, dy, x, batch, channels, length);
    assertClose(dx[0]!, dx[1]!, { atol: 1e-7, rtol: 1e-6, what: "dx f32" });
  }
});

test("gated: saturates to its limits (within 1e-30) and keeps NaN", () => {
  // channels 5: a = x[0..5), b = x[5..10)
  const a = [1000, -1000, 1000, -1000, Number.NaN];
  const b = [1000, 1000, -1000, -1000, 0];
  const y = new Float64Array(5);
  js.gatedForward(y, Float64Array.from([...a, ...b]), 1, 5, 1);
  assert.deepEqual(
    [...y.slice(0, 4)].map((v) => (Math.abs(v) < 1e-30 ? 0 : v)),
    [1, -1, 0, 0],
  );
  assert.ok(Number.isNaN(y[4]!));
});

test("gated: backward matches central finite differences (float64)", () => {
  const rng = new Rng(23);
  for (const { batch, channels, length } of SHAPES.slice(0, 2)) {
    const x = randomArray(batch * 2 * channels * length, rng, 3);
    const r = randomArray(batch * channels * length, rng);
    const y = new Float64Array(r.length);
    const loss = () => {
      js.gatedForward(y, x, batch, channels, length);
      return weightedSum(y, r);
    };
    const dx = new Float64Array(x.length);
    js.gatedBackward(dx, r, x, batch, channels, length);
    gradcheck(loss, [{ name: "x", values: x, grad: dx }]);
  }
});
