import assert from "node:assert/strict";
import * as js from "../../../src/nn/kernels/js/conv.ts";
import * as ref from "../../../src/nn/kernels/reference/conv.ts";
import { type ConvShape, convOutLength } from "../../../src/nn/kernels/types.ts";
import * as wasm from "../../../src/nn/kernels/wasm/conv.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { checkFloat32Differences, Rng, randomArray } from "../../helpers/gradcheck.ts";
import { testEachBuild } from "../../helpers/wasm-builds.ts";

/*
 * The wasm SIMD conv1d kernels (src/nn/kernels/wasm/conv.ts) against their JS twin in float32. The two sum in
 * different orders (wasm: float32 f32x4 accumulators, weight gradients in float64 per 512-frame tile; JS:
 * float64 partial sums rounded to float32), so each output may differ by the rounding of a float32 sum of
 * n terms, bounded by n * 2^-24 * sum |terms| (n = the terms of that output + 2: bias or the value added to).
 * sum |terms| is the reference kernel run on absolute values. The tests assert that bound and print the
 * largest difference seen in units of 2^-24 * sum |terms|.
 */

const EPS32 = 2 ** -24;

function shapeOf(
  batch: number,
  inChannels: number,
  outChannels: number,
  inLength: number,
  kernelSize: number,
  dilation: number,
  groups: number,
  padLeft: number,
): ConvShape {
  return { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft };
}

/** Corners, then random shapes: batch 1-3, channels 1-20 (groups 1, 2, 4), kernel 1-5, dilation 1-64. */
function shapes(rng: Rng, count: number): ConvShape[] {
  const picked = [
    shapeOf(1, 1, 1, 1, 1, 1, 1, 0),
    shapeOf(2, 16, 16, 37, 1, 1, 1, 0), // 1x1, the TCN's residual conv
    shapeOf(2, 16, 16, 64, 1, 1, 1, 0), // 1x1 over a multiple of 8 frames: no padding copies
    shapeOf(2, 1, 16, 19, 1, 1, 1, 0), // input conv
    shapeOf(2, 16, 1, 19, 1, 1, 1, 0), // head
    shapeOf(2, 16, 32, 300, 3, 64, 1, 128), // a TCN layer, causal
    shapeOf(1, 3, 6, 4, 3, 7, 1, 14), // dilation > inLength: only the last tap lands
    shapeOf(2, 2, 4, 3, 4, 9, 1, 30), // more padding than the causal amount
    shapeOf(2, 6, 6, 21, 3, 2, 6, 4), // depthwise
    shapeOf(1, 8, 12, 25, 5, 1, 4, 2), // groups 4, 3 outputs per group
    shapeOf(1, 5, 7, 1300, 3, 33, 1, 66), // several weight-gradient tiles
  ];
  const random: ConvShape[] = [];
  while (random.length < count) {
    const groups = [1, 1, 2, 4][rng.int(4)]!;
    const kernelSize = 1 + rng.int(5);
    const dilation = rng.int(3) === 0 ? 1 : 1 + rng.int(64);
    const causal = (kernelSize - 1) * dilation;
    const shape = shapeOf(
      1 + rng.int(3),
      groups * (1 + rng.int(Math.floor(20 / groups))),
      groups * (1 + rng.int(Math.floor(20 / groups))),
      1 + rng.int(300),
      kernelSize,
      dilation,
      groups,
      rng.int(2) === 0 ? 0 : causal,
    );
    if (convOutLength(shape) > 0) random.push(shape);
  }
  return [...picked, ...random];
}

const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

/** Worst |actual - expected| / (EPS32 * sumAbs), asserting it is <= n everywhere. */
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
    const scale = EPS32 * sumAbs[i]! + 1e-30;
    const ratio = Math.abs(actual[i]! - expected[i]!) / scale;
    if (!(ratio <= n))
      assert.fail(
        `${what}[${i}]: ${actual[i]} vs JS ${expected[i]} (${ratio.toFixed(1)} > ${n} ulps of sum |terms|)`,
      );
    worst = Math.max(worst, ratio);
  }
  return worst;
}

testEachBuild(
  "wasm conv1d equals the JS twin in float32 within summation error (forward, backward data, backward weights)",
  () => {
    const rng = new Rng(31);
    const worst = { y: 0, dx: 0, dw: 0, db: 0 };
    for (const shape of shapes(rng, 60)) {
      const what = JSON.stringify(shape);
      const { batch, inChannels, outChannels, inLength, kernelSize, groups } = shape;
      const outLength = convOutLength(shape);
      const x = randomArray(batch * inChannels * inLength, rng);
      const w = randomArray(((outChannels * inChannels) / groups) * kernelSize, rng, 0.5);
      const bias = rng.int(2) === 0 ? null : randomArray(outChannels, rng);
      const dy = randomArray(batch * outChannels * outLength, rng);
      const perOutput = (inChannels / groups) * kernelSize;

      // Forward overwrites: start from different garbage.
      const yWasm = new Float32Array(dy.length).fill(Number.NaN);
      const yJs = new Float32Array(dy.length).fill(7);
      wasm.conv1dForward(yWasm, f32(x), f32(w), bias && f32(bias), shape);
      js.conv1dForward(yJs, f32(x), f32(w), bias && f32(bias), shape);
      const ySum = new Float64Array(dy.length);
      ref.conv1dForward(ySum, abs(f32(x)), abs(f32(w)), bias && abs(f32(bias)), shape);
      worst.y = Math.max(worst.y, check(yWasm, yJs, ySum, perOutput + 2, `y ${what}`));

      // Backward kernels add: start from the same non-zero contents.
      const dx0 = f32(randomArray(x.length, rng));
      const dxWasm = dx0.slice();
      const dxJs = dx0.slice();
      wasm.conv1dBackwardData(dxWasm, f32(dy), f32(w), shape);
      js.conv1dBackwardData(dxJs, f32(dy), f32(w), shape);
      const dxSum = abs(dx0);
      ref.conv1dBackwardData(dxSum, abs(f32(dy)), abs(f32(w)), shape);
      worst.dx = Math.max(
        worst.dx,
        check(dxWasm, dxJs, dxSum, (outChannels / groups) * kernelSize + 2, `dx ${what}`),
      );

      const dw0 = f32(randomArray(w.length, rng));
      const db0 = f32(randomArray(outChannels, rng));
      const dwWasm = dw0.slice();
      const dwJs = dw0.slice();
      const dbWasm = bias === null ? null : db0.slice();
      const dbJs = bias === null ? null : db0.slice();
      wasm.conv1dBackwardWeights(dwWasm, dbWasm, f32(dy), f32(x), shape);
      js.conv1dBackwardWeights(dwJs, dbJs, f32(dy), f32(x), shape);
      const dwSum = abs(dw0);
      const dbSum = abs(db0);
      ref.conv1dBackwardWeights(dwSum, dbSum, abs(f32(dy)), abs(f32(x)), shape);
      const terms = batch * outLength + 2;
      worst.dw = Math.max(worst.dw, check(dwWasm, dwJs, dwSum, terms, `dw ${what}`));
      if (dbWasm !== null && dbJs !== null)
        worst.db = Math.max(worst.db, check(dbWasm, dbJs, dbSum, terms, `db ${what}`));
      else assert.equal(dbWasm, null);
    }
    console.log(
      `wasm conv1d vs JS, worst |diff| in 2^-24 x sum |terms|: y ${worst.y.toFixed(2)}, dx ${worst.dx.toFixed(2)}, ` +
        `dw ${worst.dw.toFixed(2)}, dbias ${worst.db.toFixed(2)}`,
    );
  },
);

testEachBuild("wasm conv1d: float32 central differences match its gradients (tiny shapes)", () => {
  const rng = new Rng(32);
  for (const shape of [shapeOf(2, 4, 6, 9, 3, 2, 2, 4), shapeOf(1, 3, 2, 7, 2, 3, 1, 0)]) {
    const outLength = convOutLength(shape);
    const x = f32(randomArray(shape.batch * shape.inChannels * shape.inLength, rng));
    const w = f32(
      randomArray(((shape.outChannels * shape.inChannels) / shape.groups) * shape.kernelSize, rng),
    );
    const bias = f32(randomArray(shape.outChannels, rng));
    const r = f32(randomArray(shape.batch * shape.outChannels * outLength, rng));
    const y = new Float32Array(r.length);
    const loss = (): number => {
      wasm.conv1dForward(y, x, w, bias, shape);
      let sum = 0;
      for (let i = 0; i < y.length; i++) sum += y[i]! * r[i]!;
      return sum;
    };
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const db = new Float32Array(bias.length);
    wasm.conv1dBackwardData(dx, r, w, shape);
    wasm.conv1dBackwardWeights(dw, db, r, x, shape);
    const checked = [
      { name: "x", values: x, grad: dx },
      { name: "w", values: w, grad: dw },
      { name: "bias", values: bias, grad: db },
    ];
    checkFloat32Differences(loss, checked, 1e-3);
  }
});

testEachBuild(
  "wasm conv1d routes Float64Array to the JS twin (bit-equal) and skips shapes with no output",
  () => {
    const rng = new Rng(33);
    const shape = shapeOf(2, 4, 6, 17, 3, 2, 2, 4);
    const outLength = convOutLength(shape);
    const x = randomArray(2 * 4 * 17, rng);
    const w = randomArray(6 * 2 * 3, rng);
    const bias = randomArray(6, rng);
    const dy = randomArray(2 * 6 * outLength, rng);
    const [y1, y2] = [new Float64Array(dy.length), new Float64Array(dy.length)];
    wasm.conv1dForward(y1, x, w, bias, shape);
    js.conv1dForward(y2, x, w, bias, shape);
    assert.deepEqual(y1, y2);
    const [dx1, dx2] = [new Float64Array(x.length).fill(1), new Float64Array(x.length).fill(1)];
    wasm.conv1dBackwardData(dx1, dy, w, shape);
    js.conv1dBackwardData(dx2, dy, w, shape);
    assert.deepEqual(dx1, dx2);
    const [dw1, dw2, db1, db2] = [w, w, bias, bias].map((a) =>
      new Float64Array(a.length).fill(0.5),
    ) as Float64Array[];
    wasm.conv1dBackwardWeights(dw1!, db1!, dy, x, shape);
    js.conv1dBackwardWeights(dw2!, db2!, dy, x, shape);
    assert.deepEqual([dw1, db1], [dw2, db2]);

    const empty = shapeOf(1, 1, 1, 2, 3, 5, 1, 0);
    assert.ok(convOutLength(empty) <= 0);
    const dx = new Float32Array(2).fill(3);
    wasm.conv1dForward(new Float32Array(0), new Float32Array(2), new Float32Array(3), null, empty);
    wasm.conv1dBackwardData(dx, new Float32Array(0), new Float32Array(3), empty);
    wasm.conv1dBackwardWeights(new Float32Array(3), new Float32Array(1), new Float32Array(0), dx, empty);
    assert.deepEqual([...dx], [3, 3]);
  },
);

testEachBuild("wasm conv1d allocates nothing once warm (a TCN layer's three kernels, batch 3)", async () => {
  const rng = new Rng(34);
  const shape = shapeOf(3, 16, 32, 1000, 3, 64, 1, 128);
  const x = f32(randomArray(3 * 16 * 1000, rng));
  const w = f32(randomArray(32 * 16 * 3, rng));
  const bias = f32(randomArray(32, rng));
  const y = new Float32Array(3 * 32 * 1000);
  const [dx, dw, db] = [new Float32Array(x.length), new Float32Array(w.length), new Float32Array(32)];
  const m = await measureAllocation(() => {
    for (let i = 0; i < 20; i++) {
      wasm.conv1dForward(y, x, w, bias, shape);
      wasm.conv1dBackwardData(dx, y, w, shape);
      wasm.conv1dBackwardWeights(dw, db, y, x, shape);
    }
  });
  assert.ok(allocationFree(m), `conv1d allocated: ${JSON.stringify(m)}`);
});
