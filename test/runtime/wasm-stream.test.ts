import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.ts";
import type { ActivationKind } from "../../src/nn/kernels/types.ts";
import { instantiateWasmKernels } from "../../src/nn/kernels/wasm/module.ts";
import { ACTIVATIONS } from "../../src/nn/layers/activation.ts";
import { PRESETS } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { createStreamProcessor, processWhole } from "../../src/runtime/index.ts";
import {
  activateRows,
  addRows,
  convBlock,
  gruSteps,
  interleaveRecurrent,
  lstmSteps,
} from "../../src/runtime/kernels.ts";
import {
  type ArenaRows,
  activationCode,
  type ConvLayer,
  createWasmKernels,
  GATE_BLEND,
  GATE_NONE,
  GATE_PRODUCT,
  overrideWasmAvailability,
  packLayerWeights,
  paddedHidden,
  recurrentWeights,
  type WasmKernels,
} from "../../src/runtime/wasm/kernels.ts";
import { allocationFree, measureAllocation } from "../helpers/allocation.ts";

/*
 * assembly/stream.ts (the fused layer step, activations, LSTM / GRU steps) against the JS twins of
 * src/runtime/kernels.ts on random shapes. The wasm kernels sum in float32 (the JS twins partly in float64) and
 * use fastmath.ts's tanh / sigmoid (max abs error ~1e-7) unless asked for the exact float64 ones, so each output
 * may differ by a float32 summation error (n * 2^-24 * sum |terms|) plus the activations' error.
 */

const EPS32 = 2 ** -24;
const KINDS = ACTIVATIONS;

function rows(data: Float32Array, pos: number, stride: number): ArenaRows {
  return { data, pos, stride };
}

function fill(kernels: WasmKernels, length: number, rng: Rng, scale = 1): Float32Array {
  const array = kernels.alloc(length);
  for (let i = 0; i < length; i++) array[i] = rng.uniform(-scale, scale);
  return array;
}

test("activations: the exact codes equal Math.fround of the float64 functions (but rare 1-ulp cases), the fast ones within 2e-7", () => {
  const kernels = createWasmKernels({ arenaBytes: 1 << 20 });
  const rng = new Rng(4);
  const n = 40003; // not a multiple of 4: the remainder lanes run too
  const x = kernels.alloc(n);
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    // Tiny, moderate and large arguments (tanh's series and exp's range), both signs.
    x[i] =
      (rng.float() < 0.5 ? -1 : 1) *
      (r < 0.2 ? 1e-6 * rng.float() : r < 0.9 ? 4 * rng.float() : 60 * rng.float());
  }
  const exact: Record<string, (v: number) => number> = {
    tanh: Math.tanh,
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    silu: (v) => v / (1 + Math.exp(-v)),
  };
  const y = kernels.alloc(n);
  for (const [kind, f] of Object.entries(exact)) {
    for (const useExact of [true, false]) {
      y.set(x);
      kernels.activate(y, 0, n, 1, n, activationCode(kind as ActivationKind, useExact), 0.01);
      let ulps = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const want = Math.fround(f(x[i]!));
        const diff = Math.abs(y[i]! - want);
        worst = Math.max(worst, diff / Math.max(1, Math.abs(want)));
        if (diff !== 0) ulps++;
        if (useExact) {
          // One float32 ulp at most, and rarely.
          const ulp = Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(want) || 1e-38)) - 23));
          assert.ok(diff <= ulp, `${kind} exact at ${x[i]}: ${y[i]} vs ${want}`);
        }
      }
      console.log(
        `# ${kind} ${useExact ? "exact" : "fast"}: ${ulps} of ${n} differ, max |error| ${worst.toExponential(2)}`,
      );
      if (useExact) assert.ok(ulps <= n * 1e-3, `${kind}: ${ulps} values differ`);
      else assert.ok(worst <= 2e-7, `${kind}: max error ${worst}`);
    }
  }
});

test("fast exp-based activations: sigmoid equals fastmath.ts sigmoidV bit for bit", () => {
  const kernels = createWasmKernels({ arenaBytes: 1 << 20 });
  const fastMath = instantiateWasmKernels(kernels.memory)["fastMathInPlace"]!;
  const rng = new Rng(6);
  const n = 10001;
  const x = kernels.alloc(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform(-30, 30) * (rng.float() < 0.3 ? 0.01 : 1);
  const ours = kernels.alloc(n);
  ours.set(x);
  kernels.activate(ours, 0, n, 1, n, activationCode("sigmoid"), 0);
  const theirs = kernels.alloc(n);
  theirs.set(x);
  fastMath(theirs.byteOffset, n, 1);
  assert.deepEqual(ours, theirs);
});

interface LayerCase {
  layer: ConvLayer;
  frames: number;
  kinds: [ActivationKind, ActivationKind];
  /** The conv's and mixin's weights as PyTorch lays them out (the layer's are packed). */
  w: Float32Array;
  mixW: Float32Array | null;
  /** Copies of out / head before the call. */
  out0: Float32Array;
  head0: Float32Array | null;
}

/** A random fused layer: shapes, positions inside longer rows, optional parts. */
function randomLayer(kernels: WasmKernels, rng: Rng, exact: boolean): LayerCase {
  const gate = [GATE_NONE, GATE_NONE, GATE_PRODUCT, GATE_BLEND][rng.int(4)]!;
  const half = 1 + rng.int(9);
  const outChannels = gate === GATE_NONE ? 1 + rng.int(17) : 2 * half;
  const inChannels = 1 + rng.int(16);
  const kernelSize = 1 + rng.int(4);
  const dilation = rng.float() < 0.3 ? 1 : 1 + rng.int(64);
  const frames = rng.float() < 0.5 ? 64 : 1 + rng.int(100);
  const history = (kernelSize - 1) * dilation;
  const inPos = history + rng.int(3);
  const inStride = inPos + frames + rng.int(5);
  const inp = fill(kernels, inChannels * inStride, rng);
  const pairs = inChannels * kernelSize;
  const w = fill(kernels, outChannels * pairs, rng, 1.5 / Math.sqrt(pairs));
  const bias = rng.float() < 0.7 ? fill(kernels, outChannels, rng, 0.3) : null;
  const mixChannels = rng.float() < 0.6 ? 1 + rng.int(3) : 0;
  const mixStride = frames + rng.int(4);
  const mix = mixChannels
    ? rows(fill(kernels, mixChannels * mixStride, rng), rng.int(mixStride - frames + 1), mixStride)
    : null;
  const mixW = mixChannels ? fill(kernels, outChannels * mixChannels, rng, 0.5) : null;
  const packed = packLayerWeights(w, mixW, outChannels, inChannels, kernelSize, mixChannels);
  const weight = kernels.alloc(packed.length);
  weight.set(packed);
  const outStride = frames + rng.int(4);
  const out = rows(fill(kernels, outChannels * outStride, rng), rng.int(outStride - frames + 1), outStride);
  const res =
    rng.float() < 0.4 ? rows(fill(kernels, outChannels * outStride, rng), out.pos, outStride) : null;
  const b = gate === GATE_NONE ? outChannels : half;
  const dst = rng.float() < 0.5 ? out : rows(fill(kernels, b * outStride, rng), out.pos, outStride);
  const head = rng.float() < 0.6 ? rows(fill(kernels, b * outStride, rng), out.pos, outStride) : null;
  const kinds: [ActivationKind, ActivationKind] = [
    KINDS[rng.int(KINDS.length)]!,
    gate === GATE_NONE ? "identity" : (["sigmoid", "tanh", "softsign"] as const)[rng.int(3)]!,
  ];
  const layer: ConvLayer = {
    inp: rows(inp, inPos, inStride),
    weight,
    bias,
    inChannels,
    outChannels,
    kernelSize,
    dilation,
    accumulate: rng.float() < 0.3,
    mix,
    mixChannels,
    out,
    res,
    dst,
    head,
    activation: activationCode(kinds[0], exact),
    secondary: activationCode(kinds[1], exact),
    gate,
    slopes: kernels.alloc(2).fill(0.01),
  };
  return { layer, frames, kinds, w, mixW, out0: out.data.slice(), head0: head ? head.data.slice() : null };
}

/**
 * The JS twins in sequence (convBlock, activateRows, addRows and the gate / blend loops), on copies, with a bound
 * per output: |z| error <= (n + 3) 2^-24 sum |terms|, then through the activation (slope <= 1.1) and gate.
 */
function reference(c: LayerCase): { a: Float32Array; head: Float32Array | null; bound: Float64Array } {
  const { layer: l, frames, kinds } = c;
  const z = c.out0.slice();
  const { out } = l;
  convBlock(
    z,
    out.pos,
    out.stride,
    l.inp.data,
    l.inp.pos - (l.kernelSize - 1) * l.dilation,
    l.inp.stride,
    c.w,
    l.bias,
    l.inChannels,
    l.outChannels,
    l.kernelSize,
    l.dilation,
    1,
    frames,
    l.accumulate,
  );
  if (l.mix)
    convBlock(
      z,
      out.pos,
      out.stride,
      l.mix.data,
      l.mix.pos,
      l.mix.stride,
      c.mixW!,
      null,
      l.mixChannels,
      l.outChannels,
      1,
      1,
      1,
      frames,
      true,
    );
  if (l.res) addRows(z, out.pos, out.stride, l.res.data, l.res.pos, l.res.stride, l.outChannels, frames);
  // Bound on each z from its absolute terms.
  const zb = new Float64Array(z.length);
  for (let o = 0; o < l.outChannels; o++) {
    for (let t = 0; t < frames; t++) {
      const at = o * out.stride + out.pos + t;
      let abs =
        Math.abs(l.bias?.[o] ?? 0) +
        (l.accumulate ? Math.abs(c.out0[at]!) : 0) +
        (l.res ? Math.abs(l.res.data[at]!) : 0);
      for (let j = 0; j < l.inChannels; j++)
        for (let k = 0; k < l.kernelSize; k++)
          abs += Math.abs(
            c.w[(o * l.inChannels + j) * l.kernelSize + k]! *
              l.inp.data[j * l.inp.stride + l.inp.pos + t - (l.kernelSize - 1 - k) * l.dilation]!,
          );
      for (let j = 0; j < l.mixChannels; j++)
        abs += Math.abs(c.mixW![o * l.mixChannels + j]! * l.mix!.data[j * l.mix!.stride + l.mix!.pos + t]!);
      zb[at] = (l.inChannels * l.kernelSize + l.mixChannels + 4) * EPS32 * abs;
    }
  }
  const b = l.gate === GATE_NONE ? l.outChannels : l.outChannels / 2;
  const a = l.dst === out ? z : c.layer.dst.data.slice();
  const pre = z.slice();
  const bound = new Float64Array(a.length);
  for (let ch = 0; ch < b; ch++) {
    const zr = ch * out.stride + out.pos;
    const yr = (ch + b) * out.stride + out.pos;
    const ar = ch * l.dst.stride + l.dst.pos;
    for (let t = 0; t < frames; t++) a[ar + t] = pre[zr + t]!;
    activateRows(a, ar, 0, 1, frames, kinds[0]);
    if (l.gate !== GATE_NONE) {
      const g = pre.slice(yr, yr + frames);
      activateRows(g, 0, 0, 1, frames, kinds[1]);
      for (let t = 0; t < frames; t++) {
        a[ar + t] =
          l.gate === GATE_PRODUCT ? a[ar + t]! * g[t]! : g[t]! * a[ar + t]! + (1 - g[t]!) * pre[zr + t]!;
        bound[ar + t] =
          2.2 * (zb[zr + t]! + zb[yr + t]!) * (1 + Math.abs(pre[zr + t]!)) +
          6e-7 * (1 + Math.abs(pre[zr + t]!));
      }
    } else {
      for (let t = 0; t < frames; t++)
        bound[ar + t] = 1.1 * zb[zr + t]! + 3e-7 * Math.max(1, Math.abs(a[ar + t]!));
    }
  }
  let head: Float32Array | null = null;
  if (l.head) {
    head = c.head0!.slice();
    addRows(head, l.head.pos, l.head.stride, a, l.dst.pos, l.dst.stride, b, frames);
  }
  return { a, head, bound };
}

test("wasm convLayer (conv + mixin + residual, activation / gate / blend, head sum) equals the JS twins on random shapes", () => {
  const rng = new Rng(12);
  let kernels = createWasmKernels({ arenaBytes: 8 << 20 });
  let worst = 0;
  for (let trial = 0; trial < 120; trial++) {
    if (kernels.freeBytes < 2 << 20) kernels = createWasmKernels({ arenaBytes: 8 << 20 });
    const exact = trial % 2 === 0;
    const c = randomLayer(kernels, rng, exact);
    const { a, head, bound } = reference(c);
    kernels.convLayer(c.layer, c.frames);
    const { dst, out } = c.layer;
    const b = c.layer.gate === GATE_NONE ? c.layer.outChannels : c.layer.outChannels / 2;
    const what = `trial ${trial}: ${JSON.stringify({ ...c.layer, inp: 0, weight: 0, bias: 0, mix: 0, out: 0, res: 0, dst: dst === out, head: !!c.layer.head, frames: c.frames, kinds: c.kinds })}`;
    for (let ch = 0; ch < b; ch++) {
      for (let t = 0; t < dst.stride; t++) {
        const at = ch * dst.stride + t;
        const inside = t >= dst.pos && t < dst.pos + c.frames;
        if (!inside) {
          if (dst !== out) assert.equal(dst.data[at], a[at], `${what}: wrote outside the block`);
          continue;
        }
        const diff = Math.abs(dst.data[at]! - a[at]!);
        worst = Math.max(worst, diff);
        if (!(diff <= bound[at]!))
          assert.fail(`${what}: a[${ch}, ${t}] wasm ${dst.data[at]} js ${a[at]} (bound ${bound[at]})`);
        if (head && c.layer.head) {
          const hd = Math.abs(c.layer.head.data[at]! - head[at]!);
          if (!(hd <= bound[at]! + 4 * EPS32 * Math.abs(head[at]!)))
            assert.fail(`${what}: head[${ch}, ${t}] wasm ${c.layer.head.data[at]} js ${head[at]}`);
        }
      }
    }
  }
  console.log(`# wasm vs JS convLayer, 120 layers: max |diff| ${worst.toExponential(2)}`);
});

test("wasm convLayer: the same output whatever the block split", () => {
  const rng = new Rng(5);
  const kernels = createWasmKernels({ arenaBytes: 4 << 20 });
  for (let trial = 0; trial < 20; trial++) {
    const c = randomLayer(kernels, rng, trial % 2 === 0);
    const { layer, frames } = c;
    if (layer.accumulate || layer.dst === layer.out) continue; // in-place layers cannot run twice on the same data
    const whole = () => {
      layer.out.data.set(c.out0);
      if (layer.head) layer.head.data.set(c.head0!);
    };
    whole();
    kernels.convLayer(layer, frames);
    const a1 = layer.dst.data.slice();
    whole();
    // Split in pieces: each piece moves every row's position on.
    const positions = [layer.inp, layer.mix, layer.out, layer.res, layer.dst, layer.head].filter(
      (r) => r !== null,
    ) as { pos: number }[];
    const start = positions.map((r) => r.pos);
    for (let done = 0; done < frames; ) {
      const n = Math.min(frames - done, 1 + rng.int(9));
      positions.forEach((r, i) => {
        r.pos = start[i]! + done;
      });
      kernels.convLayer(layer, n);
      done += n;
    }
    positions.forEach((r, i) => {
      r.pos = start[i]!;
    });
    assert.deepEqual(layer.dst.data, a1, `trial ${trial}`);
  }
});

test("wasm recurrentSteps (LSTM and GRU, batch 1) equals lstmSteps / gruSteps on random shapes", () => {
  const rng = new Rng(9);
  let worst = 0;
  for (let trial = 0; trial < 40; trial++) {
    const kernels = createWasmKernels({ arenaBytes: 2 << 20 });
    const cell = trial % 2 === 0 ? "lstm" : "gru";
    const inputs = 1 + rng.int(5);
    const hidden = 1 + rng.int(20);
    const frames = 1 + rng.int(70);
    const gates = cell === "lstm" ? 4 : 3;
    const scale = 1 / Math.sqrt(hidden);
    const wIh = Float32Array.from({ length: gates * hidden * inputs }, () => rng.uniform(-scale, scale));
    const wHh = Float32Array.from({ length: gates * hidden * hidden }, () => rng.uniform(-scale, scale));
    const bIh = Float32Array.from({ length: gates * hidden }, () => rng.uniform(-scale, scale));
    const bHh = Float32Array.from({ length: gates * hidden }, () => rng.uniform(-scale, scale));
    const x = Float32Array.from({ length: frames * inputs }, () => rng.uniform(-1, 1));
    const h0 = Float32Array.from({ length: hidden }, () => rng.uniform(-0.5, 0.5));
    const c0 = Float32Array.from({ length: hidden }, () => rng.uniform(-0.5, 0.5));
    // JS twin.
    const hJs = new Float32Array((frames + 1) * hidden);
    hJs.set(h0);
    const cJs = c0.slice();
    const interleaved = interleaveRecurrent(cell, wIh, wHh, bIh, bHh, inputs, hidden);
    if (cell === "lstm") lstmSteps(hJs, cJs, x, 0, interleaved, inputs, hidden, frames);
    else gruSteps(hJs, x, 0, interleaved, inputs, hidden, frames);
    // wasm: PyTorch rows q * hidden + m; GRU slots r, z, hn, in.
    const w = recurrentWeights(inputs, hidden, (q, m, k) => {
      const g = cell === "gru" && q >= 2 ? 2 : q; // the PyTorch gate of slot q
      if (k < 0)
        return cell === "gru" && q === 2
          ? bHh[g * hidden + m]!
          : cell === "gru" && q === 3
            ? bIh[g * hidden + m]!
            : bIh[g * hidden + m]! + bHh[g * hidden + m]!;
      if (k < inputs) return cell === "gru" && q === 2 ? 0 : wIh[(g * hidden + m) * inputs + k]!;
      return cell === "gru" && q === 3 ? 0 : wHh[(g * hidden + m) * hidden + k - inputs]!;
    });
    const hp = paddedHidden(hidden);
    const wA = kernels.alloc(w.length);
    wA.set(w);
    const xA = kernels.alloc(frames * inputs);
    xA.set(x);
    const h = kernels.alloc((frames + 1) * hp);
    h.set(h0);
    const c = kernels.alloc(hp);
    c.set(c0);
    const scratch = kernels.alloc(4 * hp);
    kernels.recurrentSteps(cell, h, c, xA, 0, inputs, wA, scratch, inputs, hidden, frames);
    for (let t = 1; t <= frames; t++) {
      for (let m = 0; m < hp; m++) {
        if (m >= hidden) {
          assert.equal(h[t * hp + m], 0, "padded units stay 0");
          continue;
        }
        const diff = Math.abs(h[t * hp + m]! - hJs[t * hidden + m]!);
        worst = Math.max(worst, diff);
        // Float32 gate sums of (1 + inputs + hidden) terms per step, compounding over a few steps.
        assert.ok(
          diff < 2e-5,
          `${cell} ${inputs}x${hidden} frame ${t} unit ${m}: ${h[t * hp + m]} vs ${hJs[t * hidden + m]}`,
        );
      }
    }
  }
  console.log(`# wasm vs JS recurrent steps, 40 shapes: max |diff| ${worst.toExponential(2)}`);
});

test("the wasm stream kernels do not allocate", async () => {
  const rng = new Rng(1);
  const kernels = createWasmKernels({ arenaBytes: 4 << 20 });
  const c = randomLayer(kernels, rng, false);
  const hidden = 16;
  const hp = paddedHidden(hidden);
  const w = kernels.alloc((2 + hidden) * 4 * hp);
  const x = kernels.alloc(64);
  const h = kernels.alloc(65 * hp);
  const cell = kernels.alloc(hp);
  const scratch = kernels.alloc(4 * hp);
  const m = await measureAllocation(() => {
    for (let n = 0; n < 5000; n++) {
      kernels.convLayer(c.layer, 1 + (n % c.frames));
      kernels.activate(x, 0, 64, 1, 64, activationCode("tanh"), 0);
      kernels.recurrentSteps(n % 2 === 0 ? "lstm" : "gru", h, cell, x, 0, 1, w, scratch, 1, hidden, 64);
    }
  });
  assert.ok(allocationFree(m), `allocated: ${JSON.stringify(m)}`);
});

test("processors on the wasm kernels (fused layers, recurrent steps) match the JS twins, which run where wasm SIMD is missing", () => {
  const rng = new Rng(3);
  const x = Float32Array.from(
    { length: 6000 },
    (_, t) => 0.6 * Math.sin(0.013 * t) + 0.3 * rng.uniform(-1, 1),
  );
  for (const name of [
    "wavenet-standard",
    "wavenet-nano",
    "tcn-small",
    "mlp-study",
    "seedconv-study",
    "lstm-16",
    "gru-16",
    "lstm-8x2",
  ]) {
    const preset = PRESETS.find((p) => p.name === name);
    if (!preset) continue;
    const model = createModel(preset.model, { seed: 5 });
    const wasm = processWhole(createStreamProcessor(model, { warmUpSamples: 0 }), [x], { blockSize: 64 })[0]!;
    overrideWasmAvailability(false);
    let js: Float32Array;
    try {
      js = processWhole(createStreamProcessor(model, { warmUpSamples: 0 }), [x], { blockSize: 64 })[0]!;
    } finally {
      overrideWasmAvailability(null);
    }
    let diff = 0;
    let peak = 0;
    for (let t = 0; t < x.length; t++) {
      diff = Math.max(diff, Math.abs(wasm[t]! - js[t]!));
      peak = Math.max(peak, Math.abs(js[t]!));
    }
    console.log(`# ${name}: wasm vs JS max |diff| ${diff.toExponential(2)} (peak ${peak.toFixed(3)})`);
    assert.ok(diff <= 1e-5 * Math.max(1, peak), `${name}: ${diff}`);
  }
});
