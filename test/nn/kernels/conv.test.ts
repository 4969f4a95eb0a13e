import assert from "node:assert/strict";
import { test } from "node:test";
import * as js from "../../../src/nn/kernels/js/conv.ts";
import * as ref from "../../../src/nn/kernels/reference/conv.ts";
import { type ConvShape, convOutLength } from "../../../src/nn/kernels/types.ts";
import { assertClose, gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

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

/** Hand-picked corners, then random shapes (padLeft 0, causal (K-1)d, or anything). */
function shapes(rng: Rng): ConvShape[] {
  const picked = [
    shapeOf(1, 1, 1, 1, 1, 1, 1, 0), // 1x1 everything
    shapeOf(2, 16, 16, 37, 1, 1, 1, 0), // 1x1, the TCN's residual conv
    shapeOf(2, 1, 16, 19, 1, 1, 1, 0), // 1 -> 16 input conv
    shapeOf(2, 16, 1, 19, 1, 1, 1, 0), // 16 -> 1 head
    shapeOf(1, 4, 8, 30, 3, 4, 1, 8), // causal: same length
    shapeOf(2, 3, 5, 9, 3, 2, 1, 0), // valid
    shapeOf(1, 3, 6, 4, 3, 7, 1, 14), // dilation > inLength, causal: only the last tap ever lands
    shapeOf(2, 2, 4, 3, 4, 9, 1, 30), // dilation > inLength, extra left padding
    shapeOf(2, 6, 6, 21, 3, 2, 6, 4), // depthwise (groups = channels)
    shapeOf(1, 6, 9, 17, 2, 3, 3, 3), // groups 3, 2 -> 3 channels per group
    shapeOf(1, 8, 8, 25, 5, 1, 2, 2), // groups 2, odd padding
    shapeOf(1, 5, 7, 1300, 3, 33, 1, 66), // longer than one time tile (512), remainders in rows and pairs
    shapeOf(2, 4, 8, 1100, 1, 1, 1, 0), // 1x1 over several tiles
  ];
  const random: ConvShape[] = [];
  while (random.length < 40) {
    const groups = 1 + rng.int(3);
    const kernelSize = 1 + rng.int(4);
    const dilation = 1 + rng.int(5);
    const causal = (kernelSize - 1) * dilation;
    const pick = rng.int(3);
    const padLeft = pick === 0 ? 0 : pick === 1 ? causal : rng.int(causal + 4);
    const shape = shapeOf(
      1 + rng.int(3),
      groups * (1 + rng.int(5)),
      groups * (1 + rng.int(9)),
      1 + rng.int(24),
      kernelSize,
      dilation,
      groups,
      padLeft,
    );
    if (convOutLength(shape) > 0) random.push(shape);
  }
  return [...picked, ...random];
}

const what = (shape: ConvShape, name: string) => `${name} ${JSON.stringify(shape)}`;

test("conv1d: fast equals reference in float64 (forward, backward-data, backward-weights, bias or none)", () => {
  const rng = new Rng(11);
  for (const shape of shapes(rng)) {
    const outLength = convOutLength(shape);
    const x = randomArray(shape.batch * shape.inChannels * shape.inLength, rng);
    const w = randomArray(((shape.outChannels * shape.inChannels) / shape.groups) * shape.kernelSize, rng);
    const bias = rng.int(2) === 0 ? null : randomArray(shape.outChannels, rng);
    const dy = randomArray(shape.batch * shape.outChannels * outLength, rng);

    const y = [new Float64Array(dy.length).fill(7), new Float64Array(dy.length).fill(-7)]; // forward overwrites
    js.conv1dForward(y[0]!, x, w, bias, shape);
    ref.conv1dForward(y[1]!, x, w, bias, shape);
    assertClose(y[0]!, y[1]!, { atol: 1e-12, rtol: 1e-12, what: what(shape, "y") });

    // Backward kernels add: start from the same non-zero contents.
    const dx0 = randomArray(x.length, rng);
    const dx = [dx0.slice(), dx0.slice()];
    js.conv1dBackwardData(dx[0]!, dy, w, shape);
    ref.conv1dBackwardData(dx[1]!, dy, w, shape);
    assertClose(dx[0]!, dx[1]!, { atol: 1e-12, rtol: 1e-12, what: what(shape, "dx") });

    const dw0 = randomArray(w.length, rng);
    const db0 = randomArray(shape.outChannels, rng);
    const dw = [dw0.slice(), dw0.slice()];
    const db = [db0.slice(), db0.slice()];
    js.conv1dBackwardWeights(dw[0]!, db[0]!, dy, x, shape);
    ref.conv1dBackwardWeights(dw[1]!, db[1]!, dy, x, shape);
    assertClose(dw[0]!, dw[1]!, { atol: 1e-11, rtol: 1e-12, what: what(shape, "dw") });
    assertClose(db[0]!, db[1]!, { atol: 1e-11, rtol: 1e-12, what: what(shape, "dbias") });
    const dwNoBias = dw0.slice();
    js.conv1dBackwardWeights(dwNoBias, null, dy, x, shape);
    assertClose(dwNoBias, dw[1]!, { atol: 1e-11, rtol: 1e-12, what: what(shape, "dw without dbias") });
  }
});

test("conv1d: fast float32 agrees with the float64 reference on the same values", () => {
  const rng = new Rng(12);
  for (const shape of shapes(rng)) {
    const outLength = convOutLength(shape);
    const x = Float32Array.from(randomArray(shape.batch * shape.inChannels * shape.inLength, rng));
    const w = Float32Array.from(
      randomArray(((shape.outChannels * shape.inChannels) / shape.groups) * shape.kernelSize, rng),
    );
    const bias = Float32Array.from(randomArray(shape.outChannels, rng));
    const dy = Float32Array.from(randomArray(shape.batch * shape.outChannels * outLength, rng));
    const [x64, w64, bias64, dy64] = [x, w, bias, dy].map((a) => Float64Array.from(a)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];

    const y = new Float32Array(dy.length);
    const y64 = new Float64Array(dy.length);
    js.conv1dForward(y, x, w, bias, shape);
    ref.conv1dForward(y64, x64, w64, bias64, shape);
    assertClose(y, y64, { atol: 2e-5, rtol: 1e-5, what: what(shape, "y f32") });

    const dx = new Float32Array(x.length);
    const dx64 = new Float64Array(x.length);
    js.conv1dBackwardData(dx, dy, w, shape);
    ref.conv1dBackwardData(dx64, dy64, w64, shape);
    assertClose(dx, dx64, { atol: 2e-5, rtol: 1e-5, what: what(shape, "dx f32") });

    const dw = new Float32Array(w.length);
    const dw64 = new Float64Array(w.length);
    const db = new Float32Array(shape.outChannels);
    const db64 = new Float64Array(shape.outChannels);
    js.conv1dBackwardWeights(dw, db, dy, x, shape);
    ref.conv1dBackwardWeights(dw64, db64, dy64, x64, shape);
    assertClose(dw, dw64, { atol: 1e-4, rtol: 1e-5, what: what(shape, "dw f32") });
    assertClose(db, db64, { atol: 1e-4, rtol: 1e-5, what: what(shape, "dbias f32") });
  }
});

test("conv1d: taps that never land contribute nothing (dilation beyond the input)", () => {
  // inLength 4, K 3, dilation 7, causal padLeft 14: y[t] = w[.., 0] x[t - 14] + w[.., 1] x[t - 7] + w[.., 2] x[t],
  // and only the last tap ever lands inside the input.
  const shape = shapeOf(1, 2, 3, 4, 3, 7, 1, 14);
  assert.equal(convOutLength(shape), 4);
  const rng = new Rng(13);
  const x = randomArray(8, rng);
  const w = randomArray(18, rng);
  const y = new Float64Array(12);
  js.conv1dForward(y, x, w, null, shape);
  for (let o = 0; o < 3; o++) {
    for (let t = 0; t < 4; t++) {
      const expected = w[(o * 2 + 0) * 3 + 2]! * x[t]! + w[(o * 2 + 1) * 3 + 2]! * x[4 + t]!;
      assert.ok(Math.abs(y[o * 4 + t]! - expected) < 1e-14, `y[${o}, ${t}]`);
    }
  }
  const dw = new Float64Array(18);
  js.conv1dBackwardWeights(dw, null, randomArray(12, rng), x, shape);
  for (let i = 0; i < 18; i++) if (i % 3 !== 2) assert.equal(dw[i], 0, `dw[${i}] of a tap that never lands`);
  // No output at all: nothing is touched, nothing throws.
  const empty = shapeOf(1, 1, 1, 2, 3, 5, 1, 0);
  assert.ok(convOutLength(empty) <= 0);
  const dx = new Float64Array(2).fill(3);
  js.conv1dForward(new Float64Array(0), new Float64Array(2), new Float64Array(3), null, empty);
  js.conv1dBackwardData(dx, new Float64Array(0), new Float64Array(3), empty);
  js.conv1dBackwardWeights(new Float64Array(3), new Float64Array(1), new Float64Array(0), dx, empty);
  assert.deepEqual([...dx], [3, 3]);
});

test("conv1d: causal padding keeps the length and never looks ahead", () => {
  const shape = shapeOf(1, 3, 4, 40, 3, 4, 1, 8);
  assert.equal(convOutLength(shape), 40);
  const rng = new Rng(14);
  const w = randomArray(4 * 3 * 3, rng);
  for (const t of [0, 5, 17, 39]) {
    const dy = new Float64Array(4 * 40);
    for (let o = 0; o < 4; o++) dy[o * 40 + t] = 1;
    const dx = new Float64Array(3 * 40);
    js.conv1dBackwardData(dx, dy, w, shape);
    for (let i = 0; i < 3; i++)
      for (let s = t + 1; s < 40; s++) assert.equal(dx[i * 40 + s], 0, `y[${t}] reads x[${s}]`);
  }
});

test("conv1d: backward matches central finite differences (float64)", () => {
  const rng = new Rng(15);
  const small = [
    shapeOf(2, 3, 4, 7, 3, 2, 1, 4),
    shapeOf(1, 2, 5, 6, 1, 1, 1, 0),
    shapeOf(2, 4, 4, 9, 2, 3, 2, 1),
    shapeOf(1, 4, 4, 5, 3, 1, 4, 2),
    shapeOf(1, 2, 6, 11, 4, 1, 1, 0),
    shapeOf(2, 2, 3, 3, 3, 4, 1, 8),
  ];
  for (const shape of small) {
    const outLength = convOutLength(shape);
    const x = randomArray(shape.batch * shape.inChannels * shape.inLength, rng);
    const w = randomArray(((shape.outChannels * shape.inChannels) / shape.groups) * shape.kernelSize, rng);
    const bias = randomArray(shape.outChannels, rng);
    const r = randomArray(shape.batch * shape.outChannels * outLength, rng);
    const y = new Float64Array(r.length);
    const loss = () => {
      js.conv1dForward(y, x, w, bias, shape);
      return weightedSum(y, r);
    };
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    const db = new Float64Array(bias.length);
    js.conv1dBackwardData(dx, r, w, shape);
    js.conv1dBackwardWeights(dw, db, r, x, shape);
    gradcheck(loss, [
      { name: what(shape, "x"), values: x, grad: dx },
      { name: what(shape, "w"), values: w, grad: dw },
      { name: what(shape, "bias"), values: bias, grad: db },
    ]);
  }
});
