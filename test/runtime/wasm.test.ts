import assert from "node:assert/strict";
import { test } from "node:test";
import { sourceDigest } from "../../scripts/wasm-sources.ts";
import { Rng } from "../../src/core/rng.ts";
import { KERNELS_WASM_SOURCE_SHA256 } from "../../src/nn/kernels/wasm/kernels-wasm.ts";
import { convBlock } from "../../src/runtime/kernels.ts";
import {
  createWasmKernels,
  overrideWasmAvailability,
  resolveKernelBackend,
  setKernelBackend,
  wasmKernelsAvailable,
} from "../../src/runtime/wasm/kernels.ts";
import { allocationFree, measureAllocation } from "../helpers/allocation.ts";

/*
 * The wasm SIMD convBlock against its JS twin (src/runtime/kernels.ts). The wasm kernel sums in float32, the
 * JS one in float64 groups of four: each output may differ by the rounding of a float32 sum of n terms, bounded
 * by n * 2^-24 * sum |terms| (n = channels per group x taps + 2). The test asserts that bound and reports the
 * largest difference seen, absolute and relative to sum |terms|.
 */

const EPS32 = 2 ** -24;

interface Shape {
  inChannels: number;
  outChannels: number;
  groups: number;
  kernelSize: number;
  dilation: number;
  frames: number;
  accumulate: boolean;
  bias: boolean;
}

function randomShape(rng: Rng): Shape {
  const groups = [1, 1, 1, 2, 4][rng.int(5)]!;
  const inChannels = groups * (1 + rng.int(Math.floor(16 / groups)));
  const outChannels = groups * (1 + rng.int(Math.floor(16 / groups)));
  const kernelSize = 1 + rng.int(5);
  const dilation = rng.float() < 0.3 ? 1 : 1 + rng.int(512);
  const frames = rng.float() < 0.5 ? 1 + rng.int(70) : 1 + rng.int(4096);
  return {
    inChannels,
    outChannels,
    groups,
    kernelSize,
    dilation,
    frames,
    accumulate: rng.float() < 0.5,
    bias: rng.float() < 0.7,
  };
}

test("wasm SIMD is available on Node 20 and the committed module is built from the current assembly/ sources", () => {
  assert.equal(wasmKernelsAvailable(), true);
  assert.equal(
    KERNELS_WASM_SOURCE_SHA256,
    sourceDigest(),
    "assembly/ (or the asc version or flags) changed since src/nn/kernels/wasm/kernels-wasm.ts was built: run npm run build:wasm",
  );
});

test("wasm convBlock equals the JS twin within float32 summation error on random shapes", () => {
  const rng = new Rng(8);
  let kernels = createWasmKernels({ arenaBytes: 4 << 20 });
  let worstAbs = 0;
  let worstRel = 0;
  for (let trial = 0; trial < 60; trial++) {
    const s = randomShape(rng);
    const history = (s.kernelSize - 1) * s.dilation;
    // Odd offsets and padded strides: rows are not 16-byte aligned and do not touch.
    const inAt = rng.int(5);
    const inStride = inAt + history + s.frames + rng.int(7);
    const outAt = rng.int(5);
    const outStride = outAt + s.frames + rng.int(7);
    const inPer = s.inChannels / s.groups;
    const pairs = inPer * s.kernelSize;
    const inp = Float32Array.from({ length: s.inChannels * inStride }, () => rng.uniform(-1, 1));
    const w = Float32Array.from(
      { length: s.outChannels * pairs },
      () => rng.uniform(-1, 1) / Math.sqrt(pairs),
    );
    const bias = s.bias ? Float32Array.from({ length: s.outChannels }, () => rng.uniform(-0.5, 0.5)) : null;
    const prior = Float32Array.from({ length: s.outChannels * outStride }, () => rng.uniform(-1, 1));

    const jsOut = prior.slice();
    convBlock(
      jsOut,
      outAt,
      outStride,
      inp,
      inAt,
      inStride,
      w,
      bias,
      s.inChannels,
      s.outChannels,
      s.kernelSize,
      s.dilation,
      s.groups,
      s.frames,
      s.accumulate,
    );

    const needed = 4 * (inp.length + w.length + (bias?.length ?? 0) + prior.length) + 64;
    if (kernels.freeBytes < needed) kernels = createWasmKernels({ arenaBytes: Math.max(4 << 20, needed) });
    const wInp = kernels.alloc(inp.length);
    const wW = kernels.alloc(w.length);
    const wBias = bias === null ? null : kernels.alloc(bias.length);
    const wOut = kernels.alloc(prior.length);
    wInp.set(inp);
    wW.set(w);
    if (wBias !== null && bias !== null) wBias.set(bias);
    wOut.set(prior);
    kernels.convBlock(
      wOut,
      outAt,
      outStride,
      wInp,
      inAt,
      inStride,
      wW,
      wBias,
      s.inChannels,
      s.outChannels,
      s.kernelSize,
      s.dilation,
      s.groups,
      s.frames,
      s.accumulate,
    );

    const outPer = s.outChannels / s.groups;
    for (let o = 0; o < s.outChannels; o++) {
      const g = Math.floor(o / outPer);
      for (let t = 0; t < outStride; t++) {
        const at = o * outStride + t;
        if (t < outAt || t >= outAt + s.frames) {
          assert.equal(wOut[at], prior[at], `wrote outside the block: ${JSON.stringify(s)} o=${o} t=${t}`);
          continue;
        }
        let absSum = Math.abs(bias?.[o] ?? 0) + (s.accumulate ? Math.abs(prior[at]!) : 0);
        for (let j = 0; j < inPer; j++) {
          for (let k = 0; k < s.kernelSize; k++) {
            const x = inp[(g * inPer + j) * inStride + inAt + (t - outAt) + k * s.dilation]!;
            absSum += Math.abs(w[o * pairs + j * s.kernelSize + k]! * x);
          }
        }
        const diff = Math.abs(wOut[at]! - jsOut[at]!);
        const bound = (pairs + 3) * EPS32 * absSum + 1e-30;
        if (diff > bound)
          assert.fail(
            `${JSON.stringify(s)} o=${o} t=${t}: wasm ${wOut[at]} js ${jsOut[at]} (bound ${bound})`,
          );
        worstAbs = Math.max(worstAbs, diff);
        if (absSum > 0) worstRel = Math.max(worstRel, diff / absSum);
      }
    }
  }
  console.log(
    `# wasm vs JS convBlock, 60 shapes: max |diff| ${worstAbs.toExponential(2)}, max |diff| / sum|terms| ${worstRel.toExponential(2)}`,
  );
});

test("wasm convBlock matches the JS twin on the WaveNet A1 layer shape (16 -> 16, kernel 3, block 64) and does not allocate", async () => {
  const rng = new Rng(3);
  const kernels = createWasmKernels();
  const dilation = 8;
  const stride = 2 * dilation + 64;
  const inp = kernels.alloc(16 * stride);
  const w = kernels.alloc(16 * 16 * 3);
  const bias = kernels.alloc(16);
  const out = kernels.alloc(16 * 64);
  for (let i = 0; i < inp.length; i++) inp[i] = rng.uniform(-1, 1);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-0.25, 0.25);
  for (let i = 0; i < bias.length; i++) bias[i] = rng.uniform(-0.1, 0.1);
  const js = new Float32Array(out.length);
  convBlock(js, 0, 64, inp, 0, stride, w, bias, 16, 16, 3, dilation, 1, 64, false);
  kernels.convBlock(out, 0, 64, inp, 0, stride, w, bias, 16, 16, 3, dilation, 1, 64, false);
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i]! - js[i]!) < 1e-5, `sample ${i}`);
  const m = await measureAllocation(() => {
    for (let n = 0; n < 20000; n++)
      kernels.convBlock(out, 0, 64, inp, 0, stride, w, bias, 16, 16, 3, dilation, 1, 64, n % 2 === 1);
  });
  assert.ok(allocationFree(m), `convBlock allocated: ${JSON.stringify(m)}`);
});

test("the backend switch: auto picks wasm, js can be forced, and wasm falls back to js when SIMD is unavailable", () => {
  try {
    // auto is wasm, unless the environment forces js (DEEPSP_KERNELS=js, as in the JS-kernel test runs).
    assert.equal(resolveKernelBackend(), process.env["DEEPSP_KERNELS"] === "js" ? "js" : "wasm");
    assert.equal(resolveKernelBackend("js"), "js");
    setKernelBackend("js");
    assert.equal(resolveKernelBackend(), "js");
    assert.equal(resolveKernelBackend("wasm"), "wasm");
  } finally {
    setKernelBackend("auto");
  }
  overrideWasmAvailability(false);
  try {
    assert.equal(wasmKernelsAvailable(), false);
    assert.equal(resolveKernelBackend(), "js");
    assert.equal(resolveKernelBackend("wasm"), "js");
    assert.throws(() => createWasmKernels(), /not available/);
  } finally {
    overrideWasmAvailability(null);
  }
  assert.equal(wasmKernelsAvailable(), true);
});

test("arena: aligned, zeroed, bounded allocations that the kernels own", () => {
  const kernels = createWasmKernels({ arenaBytes: 1024 });
  const a = kernels.alloc(3);
  const b = kernels.alloc(5);
  assert.equal(a.byteOffset % 16, 0);
  assert.equal(b.byteOffset % 16, 0);
  assert.ok(b.byteOffset >= a.byteOffset + 12);
  assert.ok(a.byteOffset > 0, "address 0 means no bias");
  assert.ok(kernels.owns(a) && !kernels.owns(new Float32Array(3)));
  assert.deepEqual([...b], [0, 0, 0, 0, 0]);
  assert.throws(() => kernels.alloc(1 << 20), /arena full/);
});
