import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { createStreamProcessor, type StreamProcessor } from "../../src/runtime/index.ts";
import { type AllocationMeasurement, allocationFree, measureAllocation } from "../helpers/allocation.ts";

/*
 * process() must not allocate: test/helpers/allocation.ts measures V8's new space around 20,000 process() calls
 * with random block sizes and checks that no GC ran in between (a GC would hide allocations) and that the growth
 * is below 64 KiB. Even 16 bytes per call (one boxed number) would be 320 KB.
 */

const CALLS = 20000;

/** prepare, then CALLS process() calls with random block sizes in [1, maxBlock] (run once to warm up, then measured). */
async function measure(
  processor: StreamProcessor,
  maxBlock: number,
  seed: number,
): Promise<AllocationMeasurement> {
  const rng = new Rng(seed);
  processor.prepare(48000, maxBlock);
  const input: Float32Array[] = [];
  const output: Float32Array[] = [];
  for (let c = 0; c < processor.channels; c++) {
    input.push(Float32Array.from({ length: maxBlock }, () => rng.uniform(-1, 1)));
    output.push(new Float32Array(maxBlock));
  }
  const sizes = new Int32Array(CALLS);
  for (let i = 0; i < CALLS; i++) sizes[i] = 1 + rng.int(maxBlock);
  return measureAllocation(() => {
    for (let i = 0; i < CALLS; i++) processor.process(input, output, sizes[i]!);
  });
}

const CONFIGS: { name: string; config: Record<string, unknown>; audioChannels?: number; maxBlock: number }[] =
  [
    { name: "linear", config: { architecture: "linear", taps: 32 }, maxBlock: 256 },
    { name: "mlp", config: { architecture: "mlp", window: 16, hidden: [8, 8] }, maxBlock: 128 },
    {
      name: "seedconv",
      config: { architecture: "seedconv", filters: 6, kernelSize: 7, middle: "perFilter" },
      maxBlock: 128,
    },
    {
      name: "tcn, stereo audio",
      config: { architecture: "tcn", width: 4, dilations: [1, 2, 4, 8] },
      audioChannels: 2,
      maxBlock: 64,
    },
    {
      name: "wavenet",
      config: {
        architecture: "wavenet",
        layers: [
          { inputSize: 1, channels: 3, headSize: 2, kernelSize: 3, dilations: [1, 2], headBias: false },
          {
            inputSize: 3,
            channels: 2,
            headSize: 1,
            kernelSize: 3,
            dilations: [1, 4],
            gated: true,
            headBias: true,
          },
        ],
        headScale: 0.02,
      },
      maxBlock: 64,
    },
    { name: "lstm 2 layers", config: { architecture: "lstm", hidden: 4, layers: 2 }, maxBlock: 64 },
    { name: "gru stereo model", config: { architecture: "gru", hidden: 4, channels: 2 }, maxBlock: 64 },
  ];

for (const { name, config, audioChannels, maxBlock } of CONFIGS) {
  test(`process() does not allocate: ${name} (${CALLS} calls, blocks 1..${maxBlock})`, async (t) => {
    const processor = createStreamProcessor(
      createModel(config, { seed: 3 }),
      audioChannels ? { audioChannels } : {},
    );
    const m = await measure(processor, maxBlock, 17);
    t.diagnostic(`new space +${m.newSpaceGrowth} B, heapUsed +${m.heapGrowth} B, ${m.gcs} GCs`);
    assert.ok(
      allocationFree(m),
      `${name}: new space grew ${m.newSpaceGrowth} bytes with ${m.gcs} GCs (heapUsed ${m.heapGrowth} bytes)`,
    );
  });
}

test("reset() does not allocate", async () => {
  const processor = createStreamProcessor(
    createModel({ architecture: "tcn", width: 4, dilations: [1, 2, 4] }, { seed: 1 }),
  );
  processor.prepare(48000, 32);
  const m = await measureAllocation(() => {
    for (let i = 0; i < CALLS; i++) processor.reset();
  });
  assert.ok(allocationFree(m), `reset: new space grew ${m.newSpaceGrowth} bytes with ${m.gcs} GCs`);
});

/** A processor that allocates one small object per call (kept, so the JIT cannot optimise it away). */
class AllocatingProcessor implements StreamProcessor {
  kept: unknown = null;
  constructor(private readonly inner: StreamProcessor) {}
  get channels() {
    return this.inner.channels;
  }
  get latencySamples() {
    return this.inner.latencySamples;
  }
  get faultCount() {
    return this.inner.faultCount;
  }
  get lastFault() {
    return this.inner.lastFault;
  }
  prepare(sampleRate: number, maxBlock: number): void {
    this.inner.prepare(sampleRate, maxBlock);
  }
  process(input: readonly Float32Array[], output: Float32Array[], frames: number): void {
    this.kept = { frames };
    this.inner.process(input, output, frames);
  }
  reset(): void {
    this.inner.reset();
  }
}

test("the allocation check catches a processor that allocates one small object per call", async (t) => {
  const inner = createStreamProcessor(createModel({ architecture: "linear", taps: 8 }, { seed: 1 }));
  const m = await measure(new AllocatingProcessor(inner), 64, 5);
  t.diagnostic(
    `allocating processor: new space +${m.newSpaceGrowth} B, heapUsed +${m.heapGrowth} B, ${m.gcs} GCs`,
  );
  assert.ok(!allocationFree(m), `not caught: new space grew ${m.newSpaceGrowth} bytes, ${m.gcs} GCs`);
  assert.ok(m.newSpaceGrowth >= CALLS * 16 || m.gcs > 0);
  // The same processor without the allocation passes.
  assert.ok(allocationFree(await measure(inner, 64, 5)));
});
