import { convBlock } from "../../src/runtime/kernels.ts";
import {
  activationCode,
  type ConvLayer,
  createWasmKernels,
  packLayerWeights,
  paddedHidden,
  resolveKernelBackend,
  type WasmKernels,
} from "../../src/runtime/wasm/kernels.ts";
import { type Benchmark, type Figure, medianMs } from "../harness.ts";

/*
 * The streaming runtime's kernels on the WaveNet A1 ("standard") layer shape: 16 -> 16 channels, kernel 3, 64-frame
 * blocks. convBlock, JS twin vs WebAssembly SIMD, at a short and a long dilation; then the fused wasm layer step
 * (assembly/stream.ts: conv + 1 -> 16 mixin + tanh + head sum, and the 16 x 16 layer1x1 + residual), the
 * activations alone and an LSTM-16 step. GFLOP/s counts 2 x out x in x kernel x frames per conv call (one
 * multiply and one add per weight and frame; activations not counted). Both convBlocks read the same arrays (the
 * wasm arena), so the figures compare the kernels alone, with no copying.
 */

const CHANNELS = 16;
const KERNEL = 3;
const BLOCK = 64;
const CALLS = 20000;

function gflops(ms: number, macs = CHANNELS * CHANNELS * KERNEL, calls = CALLS): number {
  return (2 * macs * BLOCK * calls) / (ms * 1e6);
}

function random(array: Float32Array, scale: number, seed: number): Float32Array {
  let s = seed;
  for (let i = 0; i < array.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    array[i] = scale * (s / 2 ** 32 - 0.5);
  }
  return array;
}

export const kernelsBench: Benchmark = {
  name: "kernels",
  description: `runtime kernels on the WaveNet A1 layer (${CHANNELS} -> ${CHANNELS}, kernel ${KERNEL}, ${BLOCK}-frame blocks): JS vs wasm SIMD, GFLOP/s (higher is faster)`,
  async run(): Promise<Figure[]> {
    if (resolveKernelBackend("wasm") !== "wasm") {
      console.log("  (WebAssembly SIMD is unavailable: only the JS kernel is measured)");
    }
    const figures: Figure[] = [];
    for (const dilation of [1, 512]) {
      const wasm =
        resolveKernelBackend("wasm") === "wasm" ? createWasmKernels({ arenaBytes: 1 << 20 }) : null;
      const stride = (KERNEL - 1) * dilation + BLOCK;
      const inp = wasm ? wasm.alloc(CHANNELS * stride) : new Float32Array(CHANNELS * stride);
      const w = wasm
        ? wasm.alloc(CHANNELS * CHANNELS * KERNEL)
        : new Float32Array(CHANNELS * CHANNELS * KERNEL);
      const bias = wasm ? wasm.alloc(CHANNELS) : new Float32Array(CHANNELS);
      const out = wasm ? wasm.alloc(CHANNELS * BLOCK) : new Float32Array(CHANNELS * BLOCK);
      random(inp, 1, 7);
      random(w, 0.2, 8);
      random(bias, 0.1, 9);
      const args = [CHANNELS, CHANNELS, KERNEL, dilation, 1, BLOCK] as const;
      const js = gflops(
        medianMs(5, () => {
          for (let n = 0; n < CALLS; n++) convBlock(out, 0, BLOCK, inp, 0, stride, w, bias, ...args, false);
        }),
      );
      figures.push({ name: `JS convBlock, dilation ${dilation}`, value: js, unit: "GFLOP/s" });
      if (wasm) {
        const simd = gflops(
          medianMs(5, () => {
            for (let n = 0; n < CALLS; n++)
              wasm.convBlock(out, 0, BLOCK, inp, 0, stride, w, bias, ...args, false);
          }),
        );
        figures.push({
          name: `wasm SIMD convBlock, dilation ${dilation}`,
          value: simd,
          unit: "GFLOP/s",
          note: `${(simd / js).toFixed(1)}x JS`,
        });
      }
    }
    if (resolveKernelBackend("wasm") === "wasm") figures.push(...streamFigures());
    return figures;
  },
};

/** The fused layer steps, activations and an LSTM-16 step (assembly/stream.ts). */
function streamFigures(): Figure[] {
  const wasm = createWasmKernels({ arenaBytes: 1 << 20 });
  const dilation = 8;
  const stride = (KERNEL - 1) * dilation + BLOCK;
  const rows = (channels: number, length: number) => ({
    data: random(wasm.alloc(channels * length), 1, channels + length),
    pos: length - BLOCK,
    stride: length,
  });
  const arena = (array: Float32Array): Float32Array => {
    const copy = wasm.alloc(array.length);
    copy.set(array);
    return copy;
  };
  const x = rows(CHANNELS, stride);
  const mix = rows(1, BLOCK);
  const z = rows(CHANNELS, BLOCK);
  const head = rows(CHANNELS, BLOCK);
  const next = rows(CHANNELS, BLOCK);
  const conv = random(new Float32Array(CHANNELS * CHANNELS * KERNEL), 0.2, 1);
  const mixW = random(new Float32Array(CHANNELS), 0.2, 2);
  const w1x1 = random(new Float32Array(CHANNELS * CHANNELS), 0.3, 3);
  const bias = arena(random(new Float32Array(CHANNELS), 0.1, 4));
  const step = (exact: boolean): ConvLayer => ({
    inp: x,
    weight: arena(packLayerWeights(conv, mixW, CHANNELS, CHANNELS, KERNEL, 1)),
    bias,
    inChannels: CHANNELS,
    outChannels: CHANNELS,
    kernelSize: KERNEL,
    dilation,
    accumulate: false,
    mix,
    mixChannels: 1,
    out: z,
    res: null,
    dst: z,
    head,
    activation: activationCode("tanh", exact),
    secondary: 0,
    gate: 0,
    slopes: null,
  });
  const main = step(false);
  const exact = step(true);
  const out: ConvLayer = {
    ...main,
    inp: z,
    weight: arena(packLayerWeights(w1x1, null, CHANNELS, CHANNELS, 1, 0)),
    kernelSize: 1,
    dilation: 1,
    mix: null,
    mixChannels: 0,
    out: next,
    res: x,
    dst: next,
    head: null,
    activation: activationCode("identity"),
  };
  const layerMacs = CHANNELS * (CHANNELS * KERNEL + 1);
  const figures: Figure[] = [];
  for (const [name, layer, macs] of [
    ["wasm convLayer: conv + mixin + tanh + head", main, layerMacs],
    ["wasm convLayer: same, exact tanh", exact, layerMacs],
    ["wasm convLayer: layer1x1 + residual", out, CHANNELS * CHANNELS],
  ] as const) {
    const ms = medianMs(5, () => {
      for (let n = 0; n < CALLS; n++) wasm.convLayer(layer, BLOCK);
    });
    figures.push({ name, value: gflops(ms, macs), unit: "GFLOP/s" });
  }
  for (const exactTanh of [false, true]) {
    const code = activationCode("tanh", exactTanh);
    const ms = medianMs(5, () => {
      for (let n = 0; n < CALLS; n++) wasm.activate(z.data, 0, BLOCK, CHANNELS, BLOCK, code, 0);
    });
    figures.push({
      name: `wasm tanh${exactTanh ? ", exact" : ""}`,
      value: (ms * 1e6) / (CALLS * CHANNELS * BLOCK),
      unit: "ns/value",
    });
  }
  figures.push(lstmStep(wasm));
  return figures;
}

/** ns per LSTM-16 step (one input, batch 1) over 64-frame blocks. */
function lstmStep(wasm: WasmKernels): Figure {
  const hidden = 16;
  const hp = paddedHidden(hidden);
  const w = random(wasm.alloc((2 + hidden) * 4 * hp), 0.5, 5);
  const x = random(wasm.alloc(BLOCK), 1, 6);
  const h = wasm.alloc((BLOCK + 1) * hp);
  const c = wasm.alloc(hp);
  const gates = wasm.alloc(4 * hp);
  const calls = CALLS / 10;
  const ms = medianMs(5, () => {
    for (let n = 0; n < calls; n++) wasm.recurrentSteps("lstm", h, c, x, 0, 1, w, gates, 1, hidden, BLOCK);
  });
  return { name: "wasm LSTM-16 step", value: (ms * 1e6) / (calls * BLOCK), unit: "ns/step" };
}
