import assert from "node:assert/strict";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { Rng } from "../../src/core/rng.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { createStreamProcessor, type StreamProcessor } from "../../src/runtime/index.ts";

/*
 * process() must not allocate. V8 counts every JavaScript allocation in its new space (young generation) until
 * a scavenge empties it, so: collect garbage, read the new space's used bytes, make 20,000 process() calls with
 * random block sizes, read again, and check that no GC ran in between (a GC would hide allocations) and that
 * the growth is below 64 KiB. Even 16 bytes per call (one boxed number) would be 320 KB. heapUsed is reported
 * too but not asserted: it also counts code the JIT compiles, which is not garbage and varies from run to run.
 */
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const gcTimes: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcTimes.push(entry.startTime);
});
observer.observe({ entryTypes: ["gc"] });

function newSpaceUsed(): number {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return space ? space.space_used_size : Number.NaN;
}

interface Measurement {
  newSpaceGrowth: number;
  heapGrowth: number;
  gcs: number;
}

const CALLS = 20000;
const BOUND = 64 * 1024;

/** prepare + one warm-up call, then CALLS process() calls with random block sizes in [1, maxBlock]. */
async function measure(processor: StreamProcessor, maxBlock: number, seed: number): Promise<Measurement> {
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
  processor.process(input, output, maxBlock);
  gc();
  gc();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const start = performance.now();
  const new0 = newSpaceUsed();
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < CALLS; i++) processor.process(input, output, sizes[i]!);
  const new1 = newSpaceUsed();
  const heap1 = process.memoryUsage().heapUsed;
  const end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5)); // let the GC observer deliver its entries
  const gcs = gcTimes.filter((time) => time >= start && time <= end).length;
  return { newSpaceGrowth: new1 - new0, heapGrowth: heap1 - heap0, gcs };
}

function allocationFree(m: Measurement): boolean {
  return m.gcs === 0 && m.newSpaceGrowth < BOUND;
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
  for (let i = 0; i < 200; i++) processor.reset();
  gc();
  const start = performance.now();
  const new0 = newSpaceUsed();
  for (let i = 0; i < CALLS; i++) processor.reset();
  const growth = newSpaceUsed() - new0;
  const end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(gcTimes.filter((time) => time >= start && time <= end).length, 0);
  assert.ok(growth < BOUND, `reset: new space grew ${growth} bytes`);
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

test.after(() => observer.disconnect());
