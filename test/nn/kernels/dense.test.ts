import assert from "node:assert/strict";
import { test } from "node:test";
import * as js from "../../../src/nn/kernels/js/activations.ts";
import * as jsDense from "../../../src/nn/kernels/js/dense.ts";
import * as ref from "../../../src/nn/kernels/reference/activations.ts";
import * as refDense from "../../../src/nn/kernels/reference/dense.ts";
import { ACTIVATIONS } from "../../../src/nn/layers/activation.ts";
import { assertClose, gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

const SHAPES = [
  { rows: 1, inputs: 1, outputs: 1 },
  { rows: 3, inputs: 5, outputs: 7 },
  { rows: 4, inputs: 8, outputs: 4 },
  { rows: 2, inputs: 3, outputs: 9 },
];

test("dense: fast forward and backward equal the reference, with and without bias / dx", () => {
  const rng = new Rng(1);
  for (const shape of SHAPES) {
    for (const withBias of [true, false]) {
      const x = randomArray(shape.rows * shape.inputs, rng);
      const w = randomArray(shape.outputs * shape.inputs, rng);
      const b = withBias ? randomArray(shape.outputs, rng) : null;
      const dy = randomArray(shape.rows * shape.outputs, rng);
      const y = [new Float64Array(dy.length), new Float64Array(dy.length)];
      jsDense.denseForward(y[0]!, x, w, b, shape);
      refDense.denseForward(y[1]!, x, w, b, shape);
      assertClose(y[0]!, y[1]!, { atol: 1e-12, what: "y" });
      const grads = [0, 1].map(() => ({
        dx: new Float64Array(x.length),
        dw: new Float64Array(w.length).fill(0.5), // backward adds: start from non-zero
        db: withBias ? new Float64Array(shape.outputs) : null,
      }));
      jsDense.denseBackward(grads[0]!.dx, grads[0]!.dw, grads[0]!.db, dy, x, w, shape);
      refDense.denseBackward(grads[1]!.dx, grads[1]!.dw, grads[1]!.db, dy, x, w, shape);
      assertClose(grads[0]!.dx, grads[1]!.dx, { atol: 1e-12, what: "dx" });
      assertClose(grads[0]!.dw, grads[1]!.dw, { atol: 1e-12, what: "dw" });
      if (withBias) assertClose(grads[0]!.db!, grads[1]!.db!, { atol: 1e-12, what: "db" });
      // dx may be null
      const dw = new Float64Array(w.length);
      jsDense.denseBackward(null, dw, null, dy, x, w, shape);
      assertClose(
        dw,
        grads[1]!.dw.map((v) => v - 0.5),
        { atol: 1e-12, what: "dw without dx" },
      );
    }
  }
});

test("dense: backward matches central finite differences (float64)", () => {
  const rng = new Rng(2);
  for (const shape of SHAPES) {
    const x = randomArray(shape.rows * shape.inputs, rng);
    const w = randomArray(shape.outputs * shape.inputs, rng);
    const b = randomArray(shape.outputs, rng);
    const r = randomArray(shape.rows * shape.outputs, rng);
    const y = new Float64Array(r.length);
    const loss = () => {
      jsDense.denseForward(y, x, w, b, shape);
      return weightedSum(y, r);
    };
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    const db = new Float64Array(b.length);
    jsDense.denseBackward(dx, dw, db, r, x, w, shape);
    gradcheck(loss, [
      { name: "x", values: x, grad: dx },
      { name: "w", values: w, grad: dw },
      { name: "b", values: b, grad: db },
    ]);
  }
});

const KINDS = ACTIVATIONS;

test("activations: fast equals reference, in place too, float32 and float64", () => {
  const rng = new Rng(3);
  for (const kind of KINDS) {
    for (const ArrayType of [Float32Array, Float64Array]) {
      const x = ArrayType.from(randomArray(64, rng, 3));
      const [fast, slow] = [new ArrayType(64), new ArrayType(64)];
      js.activationForward(fast, x, kind, 64, 0.2);
      ref.activationForward(slow, x, kind, 64, 0.2);
      assertClose(fast, slow, { atol: 1e-7, what: kind });
      const inPlace = x.slice();
      js.activationForward(inPlace, inPlace, kind, 64, 0.2);
      assert.deepEqual(inPlace, fast);
      const dy = ArrayType.from(randomArray(64, rng));
      const [dFast, dSlow] = [new ArrayType(64).fill(1), new ArrayType(64).fill(1)];
      js.activationBackward(dFast, dy, x, fast, kind, 64, 0.2);
      ref.activationBackward(dSlow, dy, x, slow, kind, 64, 0.2);
      assertClose(dFast, dSlow, { atol: 1e-6, what: `${kind} backward` });
    }
  }
});

test("activations: backward matches central finite differences away from kinks", () => {
  const rng = new Rng(4);
  for (const kind of KINDS) {
    // Keep samples away from the kinks of relu / leaky relu / hardtanh (0, +-1) where f' jumps.
    const x = Float64Array.from({ length: 32 }, () => {
      let v = rng.uniform(-3, 3);
      while (Math.abs(v) < 0.01 || Math.abs(Math.abs(v) - 1) < 0.01) v = rng.uniform(-3, 3);
      return v;
    });
    const r = randomArray(32, rng);
    const y = new Float64Array(32);
    const loss = () => {
      js.activationForward(y, x, kind, 32, 0.1);
      return weightedSum(y, r);
    };
    loss();
    const dx = new Float64Array(32);
    js.activationBackward(dx, r, x, y, kind, 32, 0.1);
    gradcheck(loss, [{ name: kind, values: x, grad: dx }]);
  }
});
