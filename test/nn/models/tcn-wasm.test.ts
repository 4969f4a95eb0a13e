import assert from "node:assert/strict";
import { test } from "node:test";
import { WasmTcn } from "../../../src/nn/kernels/wasm/tcn.ts";
import { ACTIVATIONS } from "../../../src/nn/layers/activation.ts";
import { allocatedFloats } from "../../../src/nn/layers/sequence.ts";
import { type TcnConfig, TcnModel } from "../../../src/nn/models/tcn.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { checkFusedGradients, compareWithTwin, countFusedCalls, passes } from "../../helpers/fused.ts";
import { Rng, randomArray } from "../../helpers/gradcheck.ts";
import { testEachBuild } from "../../helpers/wasm-builds.ts";

/*
 * The gated TCN as one fused wasm kernel (src/nn/kernels/wasm/tcn.ts, what TcnModel runs in float32 with the
 * wasm backend) against its twin, the same model run layer by layer with the JS kernels, and against float32
 * central differences. The two differ by float32 sums in other orders and the fast tanh / sigmoid (~1e-7):
 * outputs within 4e-6 of the twin's largest, gradients within 1e-5 of its largest gradient (measured worst
 * ratios are printed: ~6e-7 for the 10-layer TCN).
 */

interface Case {
  config: TcnConfig;
  batch: number;
  length: number;
}

const CASES: Case[] = [
  { config: { padding: "causal" }, batch: 3, length: 300 }, // the bench's TCN, short
  { config: { padding: "causal", dilations: [1, 2, 4] }, batch: 2, length: 50 },
  { config: { padding: "valid", dilations: [1, 2, 4] }, batch: 2, length: 70 },
  { config: { padding: "valid", dilations: [1, 3, 5, 16], width: 6, kernelSize: 2 }, batch: 3, length: 211 },
  { config: { padding: "causal", kernelSize: 1, dilations: [1, 1], width: 3 }, batch: 1, length: 9 },
  { config: { padding: "causal", width: 4, dilations: [64, 1] }, batch: 2, length: 20 }, // dilation > length
  {
    config: { padding: "valid", channels: 2, width: 5, kernelSize: 4, dilations: [2, 1] },
    batch: 2,
    length: 40,
  },
  ...ACTIVATIONS.map((activation, i) => ({
    config: {
      padding: i % 2 === 0 ? ("causal" as const) : ("valid" as const),
      gated: false,
      activation,
      channels: 1 + (i % 2),
      width: 3 + i,
      dilations: [1, 3, 2],
    },
    batch: 2,
    length: 31 + 17 * i,
  })),
];

function run({ config, batch, length }: Case, fused: boolean, seed: number) {
  const channels = config.channels ?? 1;
  const x = Float32Array.from(randomArray(batch * channels * length, new Rng(seed), 1.5));
  return passes(new TcnModel(config, { seed: 3 }), { data: x, batch, channels, length }, fused, seed);
}

testEachBuild("the fused wasm TCN equals the layers run with the JS kernels (outputs and gradients)", () => {
  compareWithTwin("fused TCN", CASES, (i, fused) => run(CASES[i]!, fused, 10 + i));
});

testEachBuild("the fused wasm TCN's gradients match float32 central differences", () => {
  for (const config of [
    { padding: "causal", width: 3, kernelSize: 2, dilations: [1, 2] },
    { padding: "valid", gated: false, activation: "softsign", width: 2, kernelSize: 3, dilations: [2, 1] },
  ] as TcnConfig[]) {
    const x = Float32Array.from(randomArray(2 * 13, new Rng(40)));
    const input = { data: x, batch: 2, channels: 1, length: 13 };
    checkFusedGradients(new TcnModel(config, { seed: 4 }), input, JSON.stringify(config));
  }
});

test("the fused TCN reuses its memory for smaller batches, plans anew for another length, and adds gradients", () => {
  const config: TcnConfig = { padding: "valid", dilations: [1, 2, 4], width: 5 };
  const model = new TcnModel(config, { seed: 3 });
  const rng = new Rng(51);
  const x = Float32Array.from(randomArray(3 * 60, rng));
  const dy = Float32Array.from(randomArray(3 * 60, rng));
  const pass = (batch: number, length: number): Float32Array => {
    const y = model.forward({ data: x.subarray(0, batch * length), batch, channels: 1, length });
    model.backward({ ...y, data: dy.subarray(0, y.data.length) });
    return Float32Array.from(y.data);
  };
  const fresh = (batch: number, length: number): Float32Array => {
    const other = new TcnModel(config, { seed: 3 });
    return Float32Array.from(
      other.forward({ data: x.subarray(0, batch * length), batch, channels: 1, length }).data,
    );
  };
  const before = allocatedFloats();
  const calls = countFusedCalls(WasmTcn, () => pass(3, 60));
  assert.deepEqual(calls, { forward: 1, backward: 1 }, "the model ran the fused kernel");
  const first = allocatedFloats() - before;
  assert.ok(first > 3 * 60 * 5 * 3, `the first pass counts its wasm memory (${first} floats)`);
  model.parameters.zeroGrads();
  const again = allocatedFloats();
  pass(3, 60);
  const once = Float32Array.from(model.parameters.grads);
  pass(3, 60);
  assert.equal(allocatedFloats(), again, "the same shape reserves nothing more");
  model.parameters.grads.forEach((g, i) => {
    assert.ok(Math.abs(g - 2 * once[i]!) <= 1e-6 * Math.abs(g), `backward adds: ${g} vs 2 x ${once[i]}`);
  });
  assert.deepEqual(pass(2, 60), fresh(2, 60));
  assert.deepEqual(pass(1, 41), fresh(1, 41));
  assert.deepEqual(pass(3, 60), fresh(3, 60));
  assert.throws(
    () => model.forward({ data: x.subarray(0, 14), batch: 2, channels: 1, length: 7 }),
    /tcn: input of 7 samples is shorter than the receptive field 15/,
  );
});

testEachBuild("the fused TCN allocates nothing once warm", async () => {
  const model = new TcnModel({ padding: "causal", dilations: [1, 2, 4, 8] }, { seed: 3 });
  const rng = new Rng(61);
  const input = { data: Float32Array.from(randomArray(2 * 500, rng)), batch: 2, channels: 1, length: 500 };
  const dy = Float32Array.from(randomArray(2 * 500, rng));
  const m = await measureAllocation(() => {
    for (let i = 0; i < 10; i++) {
      const y = model.forward(input);
      model.backward({ ...y, data: dy });
    }
  });
  assert.ok(allocationFree(m), `the fused TCN allocated: ${JSON.stringify(m)}`);
});
