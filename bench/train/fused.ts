import { Rng } from "../../src/core/rng.ts";
import { setTrainingWasmBuild, type WasmBuild } from "../../src/nn/kernels/wasm/module.ts";
import { WasmScratch } from "../../src/nn/kernels/wasm/scratch.ts";
import { MlpModel } from "../../src/nn/models/mlp.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import type { Benchmark, Figure } from "../harness.ts";

interface Workload {
  name: string;
  make(): Model;
  batch: number;
  inLength: number;
  /** Multiply-adds of one forward and backward pass. */
  multiplyAdds(outFrames: number): number;
}

/** The gated TCN of ./throughput.ts: per output frame, forward = input 1x1, per layer the conv (2W x W x K)
 * and the residual (W x W, not the last layer's), the head; backward twice that less the input's data
 * gradient (not computed). */
const TCN_FORWARD = 16 + 10 * 32 * 16 * 3 + 9 * 16 * 16 + 16;

/** MLP 256 -> 64 -> 64 -> 1: forward per row; backward: every weight gradient, input gradients but layer 0's. */
const MLP_FORWARD = 256 * 64 + 64 * 64 + 64;

const WORKLOADS: Workload[] = [
  {
    name: "gated TCN 16 x 8192",
    make: () => new TcnModel({ padding: "causal" }),
    batch: 16,
    inLength: 8192,
    multiplyAdds: (frames) => frames * (3 * TCN_FORWARD - 16),
  },
  // 4096 outputs either way: from 16 sliding windows (read in place), or 4096 separate windows (repacked).
  ...[
    [16, 511],
    [4096, 256],
  ].map(([batch, inLength]) => ({
    name: `MLP-256 ${batch} x ${inLength}`,
    make: () => new MlpModel({ window: 256, hidden: [64, 64] }),
    batch: batch!,
    inLength: inLength!,
    multiplyAdds: (rows: number) => rows * (3 * MLP_FORWARD - 256 * 64),
  })),
];

/**
 * The fused TCN and MLP kernels (src/nn/kernels/wasm/{tcn,mlp}.ts) alone: forward and backward of the training
 * workloads, median over at least 2 s after a second of warm-up, with both builds of the wasm module, and the
 * rate of their multiply-adds (2 flops each); then the inner products they are made of, alone on the same
 * shapes in wasm memory (best of 7 calls): how close a whole step comes to its kernels, and they to the
 * ceiling of a register block in L1.
 */
export const fusedBench: Benchmark = {
  name: "fused",
  description: "the fused TCN and MLP training kernels: forward + backward ms and GFLOP/s, both wasm builds",
  async run() {
    const figures: Figure[] = [];
    for (const workload of WORKLOADS) {
      for (const build of ["relaxed", "simd"] as WasmBuild[]) {
        setTrainingWasmBuild(build);
        try {
          figures.push(...measure(workload, build));
        } finally {
          setTrainingWasmBuild("auto");
        }
      }
    }
    for (const build of ["relaxed", "simd"] as WasmBuild[]) figures.push(...innerProducts(build));
    return figures;
  },
};

/** The conv and dense products of the two workloads on their shapes, in a scratch memory of `build`. */
function innerProducts(build: WasmBuild): Figure[] {
  const scratch = new WasmScratch(64 << 20, build);
  const f = scratch.exports;
  const rng = new Rng(2);
  const at = (floats: number): number => {
    const address = scratch.reserve(floats);
    const heap = scratch.heap;
    for (let i = address >> 2; i < (address >> 2) + floats; i++) heap[i] = rng.uniform(-0.5, 0.5);
    return address;
  };
  const T = 8192;
  const stride = T + 1024 + 48; // an odd multiple of 16 floats, as the kernels' rows
  const rows = at(16 * stride);
  const dz = at(32 * stride);
  const out = at(32 * stride);
  const offsets = scratch.reserve(48);
  f.convOffsets!(offsets, 16, stride * 4, 3, 64 * 4); // 16 input rows x 3 taps, dilation 64
  const weights = at(8 * 49 * 16);
  const totals = scratch.reserve(2 * 32 * 48, true);
  const zeros = scratch.reserve(T, true);
  const dummy = scratch.reserve(T);
  const x = at(4096 * 256);
  const quads = at(4096 * 256);
  const wT = at(256 * 64);
  const y = at(4096 * 64);
  const dw = at(64 * 256);
  const figure = (name: string, flops: number, call: () => void): Figure => {
    call();
    let best = Number.POSITIVE_INFINITY;
    for (let rep = 0; rep < 7; rep++) {
      const start = performance.now();
      call();
      best = Math.min(best, performance.now() - start);
    }
    return { name: `${name}, ${build} build`, value: flops / (best * 1e6), unit: "GFLOP/s" };
  };
  const conv = 2 * 32 * 48 * T;
  return [
    figure("TCN conv 16 -> 32 x 3 taps over 8192 frames", conv, () =>
      f.convCorrelate!(out, T, rows, 0, 0, offsets, weights, 1, 32, 48, T, dummy, 0),
    ),
    figure("TCN conv, the same 64 frames 128 times (in L1)", conv, () => {
      for (let r = 0; r < 128; r++)
        f.convCorrelate!(out, 64, rows, 0, 0, offsets, weights, 1, 32, 48, 64, dummy, 0);
    }),
    figure("TCN conv weight gradient 32 x 48 over 8192", conv, () =>
      f.convWeightDots!(totals, dz, stride, rows, 0, 0, offsets, 1, 32, 48, T, 512, zeros, dummy),
    ),
    figure("MLP dense 4096 x 256 -> 64 forward", 2 * 4096 * 256 * 64, () =>
      f.denseForwardF32!(y, quads, wT, 0, 4096, 256, 64, dummy),
    ),
    figure("MLP dense weight gradient 64 x 256 over 4096", 2 * 4096 * 256 * 64, () =>
      f.denseWeightGradF32!(dw, y, x, 256, 4096, 64, 256, 128, dummy),
    ),
  ];
}

function measure(workload: Workload, build: WasmBuild): Figure[] {
  const model = workload.make();
  const rng = new Rng(1);
  const { batch, inLength } = workload;
  const input = {
    data: Float32Array.from({ length: batch * inLength }, () => 0.3 * rng.normal()),
    batch,
    channels: 1,
    length: inLength,
  };
  const outLength = inLength - model.receptiveField + 1;
  const dy = Float32Array.from({ length: batch * outLength }, () => 0.01 * rng.normal());
  const pass = (): [number, number] => {
    const start = performance.now();
    const y = model.forward(input);
    const middle = performance.now();
    model.backward({ ...y, data: dy });
    return [middle - start, performance.now() - middle];
  };
  const warm = performance.now() + 1000;
  while (performance.now() < warm) pass();
  const forward: number[] = [];
  const backward: number[] = [];
  const begin = performance.now();
  while (forward.length < 10 || performance.now() - begin < 2000) {
    const [f, b] = pass();
    forward.push(f);
    backward.push(b);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const ms = median(forward) + median(backward);
  const flops = 2 * workload.multiplyAdds(batch * outLength);
  return [
    {
      name: `${workload.name}, ${build} build`,
      value: ms,
      unit: "ms per forward + backward",
      note: `forward ${median(forward).toFixed(1)} ms, backward ${median(backward).toFixed(1)} ms; ${(flops / (ms * 1e6)).toFixed(1)} GFLOP/s over the step's multiply-adds`,
    },
  ];
}
