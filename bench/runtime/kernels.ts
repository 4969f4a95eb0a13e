import { convBlock } from "../../src/runtime/kernels.ts";
import { createWasmKernels, resolveKernelBackend } from "../../src/runtime/wasm/kernels.ts";
import { type Benchmark, type Figure, medianMs } from "../harness.ts";

/*
 * The streaming runtime's convolution kernel, JS twin vs WebAssembly SIMD, on the WaveNet A1 ("standard") layer
 * shape: 16 -> 16 channels, kernel 3, 64-frame blocks, at a short and a long dilation. GFLOP/s counts
 * 2 x out x in x kernel x frames per call (one multiply and one add per weight and frame). Both kernels read
 * the same arrays (the wasm arena), so the figures compare the kernels alone, with no copying.
 */

const CHANNELS = 16;
const KERNEL = 3;
const BLOCK = 64;
const CALLS = 20000;

function gflops(ms: number): number {
  return (2 * CHANNELS * CHANNELS * KERNEL * BLOCK * CALLS) / (ms * 1e6);
}

export const kernelsBench: Benchmark = {
  name: "kernels",
  description: `runtime convBlock ${CHANNELS} -> ${CHANNELS}, kernel ${KERNEL}, ${BLOCK}-frame blocks: JS vs wasm SIMD, GFLOP/s (higher is faster)`,
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
      let seed = 7;
      const next = (): number => {
        seed = (seed * 1664525 + 1013904223) >>> 0;
        return seed / 2 ** 32 - 0.5;
      };
      for (let i = 0; i < inp.length; i++) inp[i] = next();
      for (let i = 0; i < w.length; i++) w[i] = 0.2 * next();
      for (let i = 0; i < bias.length; i++) bias[i] = 0.1 * next();
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
    return figures;
  },
};
