import assert from "node:assert/strict";
import { test } from "node:test";
import * as js from "../../../src/nn/kernels/js/dense.ts";
import * as ref from "../../../src/nn/kernels/reference/dense.ts";
import type { DenseShape } from "../../../src/nn/kernels/types.ts";
import * as wasm from "../../../src/nn/kernels/wasm/dense.ts";
import { setTrainingWasmBuild, trainingWasmBuild } from "../../../src/nn/kernels/wasm/module.ts";
import { enableRelaxedSimd } from "../../../src/node/wasm.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { checkFloat32Differences, Rng, randomArray } from "../../helpers/gradcheck.ts";
import { testEachBuild, WASM_BUILDS } from "../../helpers/wasm-builds.ts";

/*
 * The wasm SIMD dense kernels (src/nn/kernels/wasm/dense.ts) against their JS twin in float32. Both sum in
 * float32 but in different orders, so each output may differ by the rounding of a float32 sum of n terms,
 * bounded by n * 2^-24 * sum |terms| (n = the terms of that output + 2); sum |terms| is the reference kernel
 * run on absolute values. The tests assert that bound and print the largest difference seen in units of
 * 2^-24 * sum |terms|.
 */

const EPS32 = 2 ** -24;

const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

function check(
  actual: Float32Array,
  expected: Float32Array,
  sumAbs: Float64Array,
  n: number,
  what: string,
): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const ratio = Math.abs(actual[i]! - expected[i]!) / (EPS32 * sumAbs[i]! + 1e-30);
    if (!(ratio <= n))
      assert.fail(`${what}[${i}]: ${actual[i]} vs JS ${expected[i]} (${ratio.toFixed(1)} > ${n})`);
    worst = Math.max(worst, ratio);
  }
  return worst;
}

/** Corners (the MLP's layers, 1-wide, columns not a multiple of 8), then random shapes. */
function shapes(rng: Rng): DenseShape[] {
  const picked = [
    { rows: 1, inputs: 1, outputs: 1 },
    { rows: 37, inputs: 256, outputs: 64 },
    { rows: 33, inputs: 64, outputs: 64 },
    { rows: 30, inputs: 64, outputs: 1 },
    { rows: 5, inputs: 3, outputs: 9 },
    { rows: 300, inputs: 13, outputs: 7 },
  ];
  const random: DenseShape[] = [];
  while (random.length < 40) {
    random.push({ rows: 1 + rng.int(300), inputs: 1 + rng.int(70), outputs: 1 + rng.int(70) });
  }
  return [...picked, ...random];
}

testEachBuild(
  "wasm dense equals the JS twin in float32 within summation error (forward, dx, dw, db; bias and dx optional)",
  () => {
    const rng = new Rng(41);
    const worst = { y: 0, dx: 0, dw: 0, db: 0 };
    for (const shape of shapes(rng)) {
      const what = JSON.stringify(shape);
      const { rows, inputs, outputs } = shape;
      const x = f32(randomArray(rows * inputs, rng));
      const w = f32(randomArray(outputs * inputs, rng, 0.5));
      const b = rng.int(2) === 0 ? null : f32(randomArray(outputs, rng));
      const dy = f32(randomArray(rows * outputs, rng));

      const yWasm = new Float32Array(rows * outputs).fill(Number.NaN);
      const yJs = new Float32Array(rows * outputs);
      wasm.denseForward(yWasm, x, w, b, shape);
      js.denseForward(yJs, x, w, b, shape);
      const ySum = new Float64Array(yJs.length);
      ref.denseForward(ySum, abs(x), abs(w), b && abs(b), shape);
      worst.y = Math.max(worst.y, check(yWasm, yJs, ySum, inputs + 2, `y ${what}`));

      const withDx = rng.int(3) !== 0;
      const dx0 = f32(randomArray(x.length, rng));
      const dw0 = f32(randomArray(w.length, rng));
      const db0 = f32(randomArray(outputs, rng));
      const grads = [0, 1].map(() => ({
        dx: withDx ? dx0.slice() : null,
        dw: dw0.slice(),
        db: b === null ? null : db0.slice(),
      }));
      wasm.denseBackward(grads[0]!.dx, grads[0]!.dw, grads[0]!.db, dy, x, w, shape);
      js.denseBackward(grads[1]!.dx, grads[1]!.dw, grads[1]!.db, dy, x, w, shape);
      const sums = { dx: abs(dx0), dw: abs(dw0), db: abs(db0) };
      ref.denseBackward(sums.dx, sums.dw, sums.db, abs(dy), abs(x), abs(w), shape);
      if (withDx)
        worst.dx = Math.max(
          worst.dx,
          check(grads[0]!.dx!, grads[1]!.dx!, sums.dx, outputs + 2, `dx ${what}`),
        );
      worst.dw = Math.max(worst.dw, check(grads[0]!.dw, grads[1]!.dw, sums.dw, rows + 2, `dw ${what}`));
      if (b !== null)
        worst.db = Math.max(worst.db, check(grads[0]!.db!, grads[1]!.db!, sums.db, rows + 2, `db ${what}`));
    }
    console.log(
      `wasm dense vs JS, worst |diff| in 2^-24 x sum |terms|: y ${worst.y.toFixed(2)}, dx ${worst.dx.toFixed(2)}, ` +
        `dw ${worst.dw.toFixed(2)}, db ${worst.db.toFixed(2)}`,
    );
  },
);

testEachBuild("wasm dense: float32 central differences match its gradients (tiny shape)", () => {
  const rng = new Rng(42);
  const shape = { rows: 3, inputs: 5, outputs: 9 };
  const x = f32(randomArray(15, rng));
  const w = f32(randomArray(45, rng));
  const b = f32(randomArray(9, rng));
  const r = f32(randomArray(27, rng));
  const y = new Float32Array(27);
  const loss = (): number => {
    wasm.denseForward(y, x, w, b, shape);
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i]! * r[i]!;
    return sum;
  };
  const dx = new Float32Array(15);
  const dw = new Float32Array(45);
  const db = new Float32Array(9);
  wasm.denseBackward(dx, dw, db, r, x, w, shape);
  checkFloat32Differences(
    loss,
    [
      { name: "x", values: x, grad: dx },
      { name: "w", values: w, grad: dw },
      { name: "b", values: b, grad: db },
    ],
    1e-3,
  );
});

testEachBuild("wasm dense routes Float64Array to the JS twin (bit-equal)", () => {
  const rng = new Rng(43);
  const shape = { rows: 6, inputs: 11, outputs: 5 };
  const x = randomArray(66, rng);
  const w = randomArray(55, rng);
  const b = randomArray(5, rng);
  const dy = randomArray(30, rng);
  const [y1, y2] = [new Float64Array(30), new Float64Array(30)];
  wasm.denseForward(y1, x, w, b, shape);
  js.denseForward(y2, x, w, b, shape);
  assert.deepEqual(y1, y2);
  const make = () => ({
    dx: new Float64Array(66).fill(1),
    dw: new Float64Array(55).fill(2),
    db: new Float64Array(5),
  });
  const [g1, g2] = [make(), make()];
  wasm.denseBackward(g1.dx, g1.dw, g1.db, dy, x, w, shape);
  js.denseBackward(g2.dx, g2.dw, g2.db, dy, x, w, shape);
  assert.deepEqual(g1, g2);
});

testEachBuild("wasm dense allocates nothing once warm (columns padded and not)", async () => {
  const rng = new Rng(44);
  const cases = [
    { rows: 64, inputs: 256, outputs: 64 },
    { rows: 30, inputs: 13, outputs: 1 },
  ].map((shape) => ({
    shape,
    x: f32(randomArray(shape.rows * shape.inputs, rng)),
    w: f32(randomArray(shape.outputs * shape.inputs, rng)),
    b: f32(randomArray(shape.outputs, rng)),
    y: new Float32Array(shape.rows * shape.outputs),
    dx: new Float32Array(shape.rows * shape.inputs),
    dw: new Float32Array(shape.outputs * shape.inputs),
    db: new Float32Array(shape.outputs),
  }));
  const m = await measureAllocation(() => {
    for (let i = 0; i < 20; i++) {
      for (const c of cases) {
        wasm.denseForward(c.y, c.x, c.w, c.b, c.shape);
        wasm.denseBackward(c.dx, c.dw, c.db, c.y, c.x, c.w, c.shape);
        wasm.denseBackward(null, c.dw, null, c.y, c.x, c.w, c.shape);
      }
    }
  });
  assert.ok(allocationFree(m), `dense allocated: ${JSON.stringify(m)}`);
});

test("the relaxed-SIMD build is available on Node 20 once enabled, and its multiply-adds are fused", () => {
  assert.equal(enableRelaxedSimd(), true);
  assert.equal(trainingWasmBuild(), "relaxed");
  // (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly; with the product rounded to float32 first it is 0.
  const x = Float32Array.of(1 + 2 ** -12);
  const w = Float32Array.of(1 + 2 ** -12);
  const b = Float32Array.of(-(1 + 2 ** -11));
  const shape = { rows: 1, inputs: 1, outputs: 1 };
  const results = WASM_BUILDS.map((build) => {
    setTrainingWasmBuild(build);
    try {
      const y = new Float32Array(1);
      wasm.denseForward(y, x, w, b, shape);
      return y[0];
    } finally {
      setTrainingWasmBuild("auto");
    }
  });
  assert.deepEqual(results, [0, 2 ** -24]);
  process.env["DEEPSP_WASM_BUILD"] = "simd";
  try {
    assert.equal(trainingWasmBuild(), "simd");
  } finally {
    delete process.env["DEEPSP_WASM_BUILD"];
  }
});
