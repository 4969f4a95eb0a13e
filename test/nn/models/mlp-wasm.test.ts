import assert from "node:assert/strict";
import { test } from "node:test";
import { WasmMlp } from "../../../src/nn/kernels/wasm/mlp.ts";
import { ACTIVATIONS } from "../../../src/nn/layers/activation.ts";
import { allocatedFloats } from "../../../src/nn/layers/sequence.ts";
import { type MlpConfig, MlpModel } from "../../../src/nn/models/mlp.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { checkFusedGradients, compareWithTwin, countFusedCalls, passes } from "../../helpers/fused.ts";
import { Rng, randomArray } from "../../helpers/gradcheck.ts";
import { testEachBuild } from "../../helpers/wasm-builds.ts";

/*
 * The MLP as one fused wasm kernel (src/nn/kernels/wasm/mlp.ts, what MlpModel runs in float32 with the wasm
 * backend) against its twin, the layers run with the JS kernels, and against float32 central differences.
 * Both shapes of the first layer: one window per item (rows repacked into quads) and sliding windows (read in
 * place). Outputs within 4e-6 of the twin's largest, gradients within 1e-5 of its largest (worst printed).
 */

interface Case {
  config: MlpConfig;
  batch: number;
  length: number;
}

const CASES: Case[] = [
  { config: { window: 256, hidden: [64, 64] }, batch: 41, length: 256 }, // the bench's MLP, one window each
  { config: { window: 256, hidden: [64, 64] }, batch: 3, length: 300 },
  { config: { window: 13, hidden: [5, 7] }, batch: 3, length: 40 },
  { config: { window: 13, hidden: [5, 7] }, batch: 5, length: 13 },
  { config: { window: 9, hidden: [] }, batch: 2, length: 30 }, // linear
  { config: { window: 1, hidden: [3] }, batch: 2, length: 6 },
  ...ACTIVATIONS.map((activation, i) => ({
    config: { window: 5 + i, hidden: [3 + i, 9], activation },
    batch: 2,
    length: i % 2 === 0 ? 5 + i : 31 + 3 * i,
  })),
];

function run({ config, batch, length }: Case, fused: boolean, seed: number) {
  const x = Float32Array.from(randomArray(batch * length, new Rng(seed), 1.5));
  return passes(new MlpModel(config, { seed: 3 }), { data: x, batch, channels: 1, length }, fused, seed);
}

testEachBuild("the fused wasm MLP equals the layers run with the JS kernels (outputs and gradients)", () => {
  compareWithTwin("fused MLP", CASES, (i, fused) => run(CASES[i]!, fused, 20 + i));
});

testEachBuild("the fused wasm MLP's gradients match float32 central differences", () => {
  for (const [config, length] of [
    [{ window: 6, hidden: [4, 3] }, 6],
    [{ window: 5, hidden: [3], activation: "sigmoid" }, 11],
  ] as [MlpConfig, number][]) {
    const x = Float32Array.from(randomArray(3 * length, new Rng(42)));
    const input = { data: x, batch: 3, channels: 1, length };
    checkFusedGradients(new MlpModel(config, { seed: 4 }), input, JSON.stringify(config));
  }
});

test("the fused MLP reuses its memory for smaller batches, plans anew for another length, and adds gradients", () => {
  const config: MlpConfig = { window: 7, hidden: [6, 5] };
  const model = new MlpModel(config, { seed: 3 });
  const rng = new Rng(52);
  const x = Float32Array.from(randomArray(4 * 30, rng));
  const dy = Float32Array.from(randomArray(4 * 30, rng));
  const input = (batch: number, length: number) => ({
    data: x.subarray(0, batch * length),
    batch,
    channels: 1,
    length,
  });
  const pass = (batch: number, length: number): Float32Array => {
    const y = model.forward(input(batch, length));
    model.backward({ ...y, data: dy.subarray(0, y.data.length) });
    return Float32Array.from(y.data);
  };
  const fresh = (batch: number, length: number): Float32Array =>
    Float32Array.from(new MlpModel(config, { seed: 3 }).forward(input(batch, length)).data);
  const before = allocatedFloats();
  const calls = countFusedCalls(WasmMlp, () => pass(4, 30));
  assert.deepEqual(calls, { forward: 1, backward: 1 }, "the model ran the fused kernel");
  assert.ok(allocatedFloats() - before > 4 * 24 * 6, "the first pass counts its wasm memory");
  model.parameters.zeroGrads();
  const again = allocatedFloats();
  pass(4, 30);
  const once = Float32Array.from(model.parameters.grads);
  pass(4, 30);
  assert.equal(allocatedFloats(), again, "the same shape reserves nothing more");
  model.parameters.grads.forEach((g, i) => {
    assert.ok(Math.abs(g - 2 * once[i]!) <= 1e-6 * Math.abs(g), `backward adds: ${g} vs 2 x ${once[i]}`);
  });
  assert.deepEqual(pass(3, 30), fresh(3, 30));
  assert.deepEqual(pass(4, 7), fresh(4, 7));
  assert.deepEqual(pass(2, 30), fresh(2, 30));
  assert.throws(() => model.forward(input(2, 6)), /shorter than the window 7/);
});

testEachBuild("the fused MLP allocates nothing once warm", async () => {
  const model = new MlpModel({ window: 32, hidden: [16, 16] }, { seed: 3 });
  const rng = new Rng(62);
  for (const length of [32, 100]) {
    const input = { data: Float32Array.from(randomArray(8 * length, rng)), batch: 8, channels: 1, length };
    const dy = Float32Array.from(randomArray(8 * (length - 31), rng));
    const m = await measureAllocation(() => {
      for (let i = 0; i < 10; i++) {
        const y = model.forward(input);
        model.backward({ ...y, data: dy });
      }
    });
    assert.ok(allocationFree(m), `the fused MLP allocated (length ${length}): ${JSON.stringify(m)}`);
  }
});
