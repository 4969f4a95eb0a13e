import assert from "node:assert/strict";
import { test } from "node:test";
import * as jsActivations from "../../../src/nn/kernels/js/activations.ts";
import * as jsGated from "../../../src/nn/kernels/js/gated.ts";
import type { ActivationKind } from "../../../src/nn/kernels/types.ts";
import * as wasm from "../../../src/nn/kernels/wasm/activations.ts";
import { ACTIVATIONS } from "../../../src/nn/layers/activation.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { Rng } from "../../helpers/gradcheck.ts";

/*
 * The wasm SIMD element-wise kernels (src/nn/kernels/wasm/activations.ts) against their JS twins in float32.
 * tanh, sigmoid, silu and the gate use a fast exp (assembly/activations.ts): asserted within 2e-7 absolute of
 * the twins (relative where |y| > 1; the twins are exact to float32 rounding); every other kind, and the tanh / sigmoid backward (given the
 * same y), must be bit-equal.
 */

const KINDS = ACTIVATIONS;
const FAST = new Set<ActivationKind>(["tanh", "sigmoid", "silu"]);

/** Dense over [-20, 20] and every scale down to 1e-6, with corners (zeros, huge, saturating); odd length. */
function inputs(count: number, rng: Rng): Float32Array {
  const corners = [
    0, -0, 1e-30, -1e-30, 1e-6, -0.5, 1, -1, 0.99999994, 9, -9, 44, -44, 88, -88, 100, -100, 1e30, -1e30,
  ];
  return Float32Array.from({ length: count }, (_, i) =>
    i < corners.length ? corners[i]! : rng.uniform(-1, 1) * [1e-6, 0.01, 1, 4, 20][i % 5]!,
  );
}

/**
 * Largest |a - b| / max(1, |b|) (absolute where |b| <= 1: tanh, sigmoid; relative beyond: silu's x sigmoid(x)),
 * and whether a equals b bit for bit (NaN equal to NaN; == compares, so -0 equals 0).
 */
function diff(a: Float32Array, b: Float32Array): { worst: number; equal: boolean } {
  let worst = 0;
  let equal = true;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) equal = false;
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  }
  return { worst, equal };
}

test("wasm activations equal the JS twins: exact kinds bit for bit, tanh / sigmoid / silu within 2e-7", () => {
  const rng = new Rng(51);
  const count = 70_001; // more than one staged chunk (65536), not a multiple of 4
  const x = inputs(count, rng);
  const dy = Float32Array.from({ length: count }, () => rng.uniform(-1, 1));
  const dx0 = Float32Array.from({ length: count }, () => rng.uniform(-1, 1));
  const report: string[] = [];
  for (const kind of KINDS) {
    const alpha = 0.01;
    const yWasm = new Float32Array(count).fill(Number.NaN);
    const yJs = new Float32Array(count);
    wasm.activationForward(yWasm, x, kind, count, alpha);
    jsActivations.activationForward(yJs, x, kind, count, alpha);
    const forward = diff(yWasm, yJs);
    if (FAST.has(kind)) assert.ok(forward.worst <= 2e-7, `${kind} forward: |diff| ${forward.worst}`);
    else assert.ok(forward.equal, `${kind} forward is not bit-equal (|diff| ${forward.worst})`);

    // Backward adds into dx; both read the JS forward's y.
    const dxWasm = dx0.slice();
    const dxJs = dx0.slice();
    wasm.activationBackward(dxWasm, dy, x, yJs, kind, count, alpha);
    jsActivations.activationBackward(dxJs, dy, x, yJs, kind, count, alpha);
    const backward = diff(dxWasm, dxJs);
    if (kind === "silu") assert.ok(backward.worst <= 1e-6, `silu backward: |diff| ${backward.worst}`);
    else assert.ok(backward.equal, `${kind} backward is not bit-equal (|diff| ${backward.worst})`);
    report.push(`${kind} ${forward.worst.toExponential(1)}/${backward.worst.toExponential(1)}`);
  }
  console.log(`wasm activations vs JS, worst |diff| forward/backward: ${report.join(", ")}`);
});

test("wasm activations: in place (y === x), partial counts, and the fast functions against Math on a grid", () => {
  const rng = new Rng(52);
  for (const kind of KINDS) {
    const x = inputs(1003, rng);
    const expected = new Float32Array(x.length);
    jsActivations.activationForward(expected, x, kind, 1000, 0.2);
    expected.set(x.subarray(1000), 1000); // past count: untouched
    const inPlace = x.slice();
    wasm.activationForward(inPlace, inPlace, kind, 1000, 0.2);
    const { worst, equal } = diff(inPlace, expected);
    assert.ok(FAST.has(kind) ? worst <= 2e-7 : equal, `${kind} in place: |diff| ${worst}`);
  }
  const grid = Float32Array.from({ length: 400_001 }, (_, i) => -20 + i * 1e-4);
  const out = new Float32Array(grid.length);
  const exact = { tanh: Math.tanh, sigmoid: (v: number) => 1 / (1 + Math.exp(-v)) };
  for (const [kind, f] of Object.entries(exact)) {
    wasm.activationForward(out, grid, kind as ActivationKind, grid.length, 0);
    let worst = 0;
    for (let i = 0; i < grid.length; i++) worst = Math.max(worst, Math.abs(out[i]! - f(grid[i]!)));
    console.log(`fast ${kind}: max absolute error vs Math (float64) ${worst.toExponential(2)}`);
    assert.ok(worst <= 2e-7, `${kind}: ${worst}`);
  }
});

test("wasm gate equals the JS twin within 2e-7 (forward) and 2e-7 |dy| (backward), lengths not a multiple of 8", () => {
  const rng = new Rng(53);
  let worstY = 0;
  let worstDx = 0;
  for (const [batch, channels, length] of [
    [1, 1, 1],
    [2, 3, 5],
    [3, 16, 41],
    [2, 16, 512],
  ] as const) {
    const x = inputs(batch * 2 * channels * length, rng);
    const dy = Float32Array.from({ length: batch * channels * length }, () => rng.uniform(-1, 1));
    const yWasm = new Float32Array(dy.length).fill(Number.NaN);
    const yJs = new Float32Array(dy.length);
    wasm.gatedForward(yWasm, x, batch, channels, length);
    jsGated.gatedForward(yJs, x, batch, channels, length);
    worstY = Math.max(worstY, diff(yWasm, yJs).worst);
    const dx0 = Float32Array.from({ length: x.length }, () => rng.uniform(-1, 1));
    const dxWasm = dx0.slice();
    const dxJs = dx0.slice();
    wasm.gatedBackward(dxWasm, dy, x, batch, channels, length);
    jsGated.gatedBackward(dxJs, dy, x, batch, channels, length);
    worstDx = Math.max(worstDx, diff(dxWasm, dxJs).worst);
  }
  console.log(`wasm gate vs JS, worst |diff|: y ${worstY.toExponential(2)}, dx ${worstDx.toExponential(2)}`);
  const nan = new Float32Array(4);
  // a = [NaN, 0, NaN, 1], b = [0, NaN, NaN, NaN]
  const nanIn = Float32Array.of(Number.NaN, 0, Number.NaN, 1, 0, Number.NaN, Number.NaN, Number.NaN);
  wasm.gatedForward(nan, nanIn, 1, 1, 4);
  assert.ok(nan.every(Number.isNaN), `NaN in, NaN out: ${nan}`);
  assert.ok(worstY <= 2e-7, `gate y: ${worstY}`);
  assert.ok(worstDx <= 4e-7, `gate dx: ${worstDx}`); // |dy| <= 1; dx itself is rounded to float32 near |dx| <= 2
});

test("wasm gate and activations: float32 central differences match their gradients", () => {
  const rng = new Rng(54);
  const channels = 3;
  const length = 7;
  const x = Float32Array.from({ length: 2 * 2 * channels * length }, () => rng.uniform(-2, 2));
  const r = Float32Array.from({ length: 2 * channels * length }, () => rng.uniform(-1, 1));
  const y = new Float32Array(r.length);
  const weighted = (values: Float32Array) => values.reduce((sum, v, i) => sum + v * r[i]!, 0);
  const checkAll = (what: string, xs: Float32Array, loss: () => number, grad: Float32Array) => {
    for (let i = 0; i < xs.length; i++) {
      const saved = xs[i]!;
      xs[i] = saved + 1e-2;
      const plus = loss();
      const up = xs[i]!;
      xs[i] = saved - 1e-2;
      const minus = loss();
      const numeric = (plus - minus) / (up - xs[i]!);
      xs[i] = saved;
      // Central differences of a smooth function: O(h^2) = ~1e-4 truncation, plus float32 rounding / h.
      assert.ok(
        Math.abs(numeric - grad[i]!) <= 2e-3 + 2e-3 * Math.abs(numeric),
        `${what}[${i}]: ${grad[i]} vs ${numeric}`,
      );
    }
  };
  const dx = new Float32Array(x.length);
  wasm.gatedBackward(dx, r, x, 2, channels, length);
  checkAll(
    "gate",
    x,
    () => {
      wasm.gatedForward(y, x, 2, channels, length);
      return weighted(y);
    },
    dx,
  );
  const xa = x.subarray(0, r.length).slice();
  for (const kind of ["tanh", "sigmoid", "softsign", "silu"] as const) {
    const ya = new Float32Array(r.length);
    wasm.activationForward(ya, xa, kind, xa.length, 0);
    const da = new Float32Array(r.length);
    wasm.activationBackward(da, r, xa, ya, kind, xa.length, 0);
    checkAll(
      kind,
      xa,
      () => {
        wasm.activationForward(ya, xa, kind, xa.length, 0);
        return weighted(ya);
      },
      da,
    );
  }
});

test("wasm element-wise kernels route Float64Array to the JS twins (bit-equal)", () => {
  const rng = new Rng(55);
  const x = Float64Array.from({ length: 2 * 2 * 3 * 5 }, () => rng.uniform(-3, 3));
  const dy = Float64Array.from({ length: 30 }, () => rng.uniform(-1, 1));
  const [y1, y2] = [new Float64Array(30), new Float64Array(30)];
  wasm.gatedForward(y1, x, 2, 3, 5);
  jsGated.gatedForward(y2, x, 2, 3, 5);
  assert.deepEqual(y1, y2);
  const [d1, d2] = [new Float64Array(60).fill(1), new Float64Array(60).fill(1)];
  wasm.gatedBackward(d1, dy, x, 2, 3, 5);
  jsGated.gatedBackward(d2, dy, x, 2, 3, 5);
  assert.deepEqual(d1, d2);
  for (const kind of KINDS) {
    const [a1, a2] = [new Float64Array(60), new Float64Array(60)];
    wasm.activationForward(a1, x, kind, 60, 0.1);
    jsActivations.activationForward(a2, x, kind, 60, 0.1);
    assert.deepEqual(a1, a2, kind);
    const [g1, g2] = [new Float64Array(30).fill(2), new Float64Array(30).fill(2)];
    wasm.activationBackward(g1, dy, x, a1, kind, 30, 0.1);
    jsActivations.activationBackward(g2, dy, x, a2, kind, 30, 0.1);
    assert.deepEqual(g1, g2, kind);
  }
});

test("wasm element-wise kernels allocate nothing once warm (gate, every activation, chunked counts)", async () => {
  const rng = new Rng(56);
  const x = inputs(2 * 2 * 16 * 3000, rng);
  const y = new Float32Array(x.length);
  const dx = new Float32Array(x.length);
  const dy = Float32Array.from({ length: x.length }, () => rng.uniform(-1, 1));
  const m = await measureAllocation(() => {
    for (let i = 0; i < 10; i++) {
      wasm.gatedForward(y, x, 2, 16, 3000);
      wasm.gatedBackward(dx, dy, x, 2, 16, 3000);
      for (const kind of KINDS) {
        wasm.activationForward(y, x, kind, x.length, 0.01);
        wasm.activationBackward(dx, dy, x, y, kind, x.length, 0.01);
      }
    }
  });
  assert.ok(allocationFree(m), `element-wise kernels allocated: ${JSON.stringify(m)}`);
});
