import assert from "node:assert/strict";
import { test } from "node:test";
import * as jsConv from "../../../src/nn/kernels/js/conv.ts";
import {
  adjointConvShape,
  type ConvKernels,
  type ConvTransposeShape,
  convTranspose1dBackwardData,
  convTranspose1dBackwardWeights,
  convTranspose1dForward,
  convTransposeOutLength,
} from "../../../src/nn/kernels/js/conv-transpose.ts";
import * as refConv from "../../../src/nn/kernels/reference/conv.ts";
import * as ref from "../../../src/nn/kernels/reference/conv-transpose.ts";
import { type ConvShape, convOutLength } from "../../../src/nn/kernels/types.ts";
import { assertClose, gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

/** Both conv backends the transposed conv can run on. */
const BACKENDS: [string, ConvKernels][] = [
  ["js", jsConv],
  ["reference", refConv],
];

function randomShape(rng: Rng): ConvTransposeShape {
  const groups = 1 + rng.int(3);
  const kernelSize = 1 + rng.int(4);
  const dilation = 1 + rng.int(4);
  const inLength = 1 + rng.int(20);
  const full = inLength + (kernelSize - 1) * dilation;
  const pick = rng.int(4);
  // no crop, the causal crop (same length as the input), any crop, or none given at all
  const cropLeft =
    pick === 0 ? 0 : pick === 1 ? (kernelSize - 1) * dilation : pick === 2 ? rng.int(full) : undefined;
  return {
    batch: 1 + rng.int(3),
    inChannels: groups * (1 + rng.int(6)),
    outChannels: groups * (1 + rng.int(6)),
    inLength,
    kernelSize,
    dilation,
    groups,
    ...(cropLeft === undefined ? {} : { cropLeft }),
  };
}

const weightCount = (s: ConvTransposeShape) => ((s.inChannels * s.outChannels) / s.groups) * s.kernelSize;
const what = (shape: ConvTransposeShape, name: string) => `${name} ${JSON.stringify(shape)}`;

test("convTranspose1d: output length is the full adjoint length minus the crop", () => {
  const shape = {
    batch: 1,
    inChannels: 2,
    outChannels: 3,
    inLength: 10,
    kernelSize: 3,
    dilation: 4,
    groups: 1,
  };
  assert.equal(convTransposeOutLength(shape), 18);
  assert.equal(convTransposeOutLength({ ...shape, cropLeft: 8 }), 10);
  const conv = adjointConvShape({ ...shape, cropLeft: 8 });
  assert.deepEqual(conv, { ...shape, inChannels: 3, outChannels: 2, inLength: 10, padLeft: 8 });
  assert.equal(convOutLength(conv), 10);
});

test("convTranspose1d: equals its reference on every backend (float64 and float32)", () => {
  const rng = new Rng(31);
  const shapes = Array.from({ length: 40 }, () => randomShape(rng));
  // one long enough for several time tiles of the fast conv, tied-network sized
  shapes.push({
    batch: 1,
    inChannels: 8,
    outChannels: 1,
    inLength: 1200,
    kernelSize: 5,
    dilation: 3,
    groups: 1,
  });
  for (const shape of shapes) {
    const outLength = convTransposeOutLength(shape);
    const x = randomArray(shape.batch * shape.inChannels * shape.inLength, rng);
    const w = randomArray(weightCount(shape), rng);
    const bias = rng.int(2) === 0 ? null : randomArray(shape.outChannels, rng);
    const dy = randomArray(shape.batch * shape.outChannels * outLength, rng);
    const y = new Float64Array(dy.length);
    ref.convTranspose1dForward(y, x, w, bias, shape);
    const dx = randomArray(x.length, rng);
    const dxRef = dx.slice();
    ref.convTranspose1dBackwardData(dxRef, dy, w, shape);
    const dw = randomArray(w.length, rng);
    const db = randomArray(shape.outChannels, rng);
    const dwRef = dw.slice();
    const dbRef = db.slice();
    ref.convTranspose1dBackwardWeights(dwRef, dbRef, dy, x, shape);
    for (const [name, backend] of BACKENDS) {
      const yFast = new Float64Array(dy.length).fill(9);
      convTranspose1dForward(yFast, x, w, bias, shape, backend);
      assertClose(yFast, y, { atol: 1e-12, rtol: 1e-12, what: what(shape, `${name} y`) });
      const dxFast = dx.slice();
      convTranspose1dBackwardData(dxFast, dy, w, shape, backend);
      assertClose(dxFast, dxRef, { atol: 1e-12, rtol: 1e-12, what: what(shape, `${name} dx`) });
      const dwFast = dw.slice();
      const dbFast = db.slice();
      convTranspose1dBackwardWeights(dwFast, dbFast, dy, x, shape, backend);
      assertClose(dwFast, dwRef, { atol: 1e-11, rtol: 1e-12, what: what(shape, `${name} dw`) });
      assertClose(dbFast, dbRef, { atol: 1e-11, rtol: 1e-12, what: what(shape, `${name} dbias`) });
    }
    // float32 through the fast backend, against the float64 reference on the same values
    const [x32, w32, dy32] = [x, w, dy].map((a) => Float32Array.from(a)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const bias32 = bias === null ? null : Float32Array.from(bias);
    const y64 = new Float64Array(dy.length);
    ref.convTranspose1dForward(
      y64,
      Float64Array.from(x32),
      Float64Array.from(w32),
      bias32 && Float64Array.from(bias32),
      shape,
    );
    const y32 = new Float32Array(dy.length);
    convTranspose1dForward(y32, x32, w32, bias32, shape, jsConv);
    assertClose(y32, y64, { atol: 2e-5, rtol: 1e-5, what: what(shape, "y f32") });
    const dx64 = new Float64Array(x.length);
    ref.convTranspose1dBackwardData(dx64, Float64Array.from(dy32), Float64Array.from(w32), shape);
    const dx32 = new Float32Array(x.length);
    convTranspose1dBackwardData(dx32, dy32, w32, shape, jsConv);
    assertClose(dx32, dx64, { atol: 2e-5, rtol: 1e-5, what: what(shape, "dx f32") });
  }
});

test("convTranspose1d is the adjoint of conv1d with the same weights: <conv(x), y> == <x, convT(y)>", () => {
  const rng = new Rng(32);
  for (let n = 0; n < 30; n++) {
    const t = randomShape(rng);
    const conv: ConvShape = adjointConvShape(t); // maps t.outChannels -> t.inChannels
    const w = randomArray(weightCount(t), rng);
    const u = randomArray(conv.batch * conv.inChannels * conv.inLength, rng); // conv input = convT output space
    const v = randomArray(t.batch * t.inChannels * t.inLength, rng); // conv output = convT input space
    const convU = new Float64Array(v.length);
    jsConv.conv1dForward(convU, u, w, null, conv);
    const convTV = new Float64Array(u.length);
    convTranspose1dForward(convTV, v, w, null, t, jsConv);
    const left = weightedSum(convU, v);
    const right = weightedSum(u, convTV);
    assert.ok(
      Math.abs(left - right) <= 1e-12 * (1 + Math.abs(left)),
      `${JSON.stringify(t)}: ${left} vs ${right}`,
    );
  }
});

test("convTranspose1d: backward matches central finite differences (float64), with and without crop", () => {
  const rng = new Rng(33);
  for (let n = 0; n < 6; n++) {
    const shape = randomShape(rng);
    const outLength = convTransposeOutLength(shape);
    const x = randomArray(shape.batch * shape.inChannels * shape.inLength, rng);
    const w = randomArray(weightCount(shape), rng);
    const bias = randomArray(shape.outChannels, rng);
    const r = randomArray(shape.batch * shape.outChannels * outLength, rng);
    const y = new Float64Array(r.length);
    const loss = () => {
      convTranspose1dForward(y, x, w, bias, shape, jsConv);
      return weightedSum(y, r);
    };
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    const db = new Float64Array(bias.length);
    convTranspose1dBackwardData(dx, r, w, shape, jsConv);
    convTranspose1dBackwardWeights(dw, db, r, x, shape, jsConv);
    gradcheck(loss, [
      { name: what(shape, "x"), values: x, grad: dx },
      { name: what(shape, "w"), values: w, grad: dw },
      { name: what(shape, "bias"), values: bias, grad: db },
    ]);
  }
});

test("tied conv -> convT: both layers' weight gradients accumulate into one buffer", () => {
  // The study's network: conv feature layer (1 -> C channels, kernel K), output transposed conv sharing the
  // same [C, 1, K] filters (C -> 1); a tanh in between so the two uses do not collapse into one linear map.
  const rng = new Rng(34);
  for (const [channels, kernelSize, dilation, groups, inChannels] of [
    [4, 5, 1, 1, 1],
    [6, 3, 2, 1, 2],
    [4, 2, 3, 2, 2],
  ] as const) {
    const batch = 2;
    const inLength = 13;
    const conv: ConvShape = {
      batch,
      inChannels,
      outChannels: channels,
      inLength,
      kernelSize,
      dilation,
      groups,
      padLeft: 0,
    };
    const hiddenLength = convOutLength(conv);
    const t: ConvTransposeShape = {
      batch,
      inChannels: channels,
      outChannels: inChannels,
      inLength: hiddenLength,
      kernelSize,
      dilation,
      groups,
    };
    assert.equal(convTransposeOutLength(t), inLength, "full transposed conv restores the length");
    const x = randomArray(batch * inChannels * inLength, rng);
    const w = randomArray((channels * inChannels * kernelSize) / groups, rng); // shared
    const b1 = randomArray(channels, rng);
    const b2 = randomArray(inChannels, rng);
    const r = randomArray(x.length, rng);
    const h = new Float64Array(batch * channels * hiddenLength);
    const z = new Float64Array(x.length);
    const forward = () => {
      jsConv.conv1dForward(h, x, w, b1, conv);
      for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]!);
      convTranspose1dForward(z, h, w, b2, t, jsConv);
      return weightedSum(z, r);
    };
    forward();
    const dw = new Float64Array(w.length); // one buffer for both uses
    const db1 = new Float64Array(b1.length);
    const db2 = new Float64Array(b2.length);
    const dh = new Float64Array(h.length);
    const dx = new Float64Array(x.length);
    convTranspose1dBackwardWeights(dw, db2, r, h, t, jsConv);
    convTranspose1dBackwardData(dh, r, w, t, jsConv);
    for (let i = 0; i < dh.length; i++) dh[i]! *= 1 - h[i]! * h[i]!;
    jsConv.conv1dBackwardWeights(dw, db1, dh, x, conv);
    jsConv.conv1dBackwardData(dx, dh, w, conv);
    gradcheck(forward, [
      { name: "x", values: x, grad: dx },
      { name: "shared w", values: w, grad: dw },
      { name: "conv bias", values: b1, grad: db1 },
      { name: "convT bias", values: b2, grad: db2 },
    ]);
  }
});

test("convTranspose1d backward-data adds into dx, across calls of different sizes (scratch reuse)", () => {
  const rng = new Rng(35);
  const shapes: ConvTransposeShape[] = [
    { batch: 2, inChannels: 4, outChannels: 3, inLength: 30, kernelSize: 3, dilation: 2, groups: 1 },
    {
      batch: 1,
      inChannels: 2,
      outChannels: 2,
      inLength: 7,
      kernelSize: 2,
      dilation: 1,
      groups: 2,
      cropLeft: 1,
    },
    { batch: 2, inChannels: 4, outChannels: 3, inLength: 30, kernelSize: 3, dilation: 2, groups: 1 },
  ];
  for (const shape of shapes) {
    for (const Type of [Float64Array, Float32Array]) {
      const w = Type.from(randomArray(weightCount(shape), rng));
      const dy = Type.from(randomArray(shape.batch * shape.outChannels * convTransposeOutLength(shape), rng));
      const once = new Type(shape.batch * shape.inChannels * shape.inLength);
      convTranspose1dBackwardData(once, dy, w, shape, jsConv);
      const twice = Type.from(once);
      convTranspose1dBackwardData(twice, dy, w, shape, jsConv);
      assertClose(
        twice,
        once.map((v) => 2 * v),
        { atol: 1e-6, what: `${Type.name} dx accumulates` },
      );
    }
  }
});
