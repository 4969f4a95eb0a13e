import assert from "node:assert/strict";
import { test } from "node:test";
import { serializeModel } from "../../src/io/model-file.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { createStreamProcessor, processWhole } from "../../src/runtime/processor.ts";
import type { FromWorklet, WorkletOptions } from "../../web/lib/worklet-protocol.ts";
import { allocationFree, measureAllocation } from "../helpers/allocation.ts";

/*
 * web/model-worklet.ts itself, run in Node with the three globals an AudioWorkletGlobalScope gives it
 * (AudioWorkletProcessor with a port, registerProcessor, sampleRate): its output on 128-frame quanta equals
 * the runtime's on the same model, it feeds every output channel, it plays silence without a model, and
 * process() allocates nothing (with the CPU meter on: only its sampled clock reads). (test/web/app.test.ts runs it in Chromium.)
 */

const RATE = 48000;
const posted: FromWorklet[] = [];
type Processor = { process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean };
let Registered: (new (options: WorkletOptions) => Processor) | null = null;

Object.assign(globalThis, {
  sampleRate: RATE,
  AudioWorkletProcessor: class {
    readonly port = { postMessage: (message: FromWorklet) => posted.push(message), onmessage: null };
  },
  registerProcessor: (_name: string, processor: new (options: WorkletOptions) => Processor) => {
    Registered = processor;
  },
});
await import("../../web/model-worklet.ts");

function modelText(): string {
  const model = createModel({ architecture: "lstm", hidden: 8 }, { seed: 5 });
  return serializeModel({ model, sampleRate: RATE });
}

test("the worklet processor plays a model file on 128-frame quanta exactly as the runtime does, on every output channel", () => {
  const text = modelText();
  const node = new Registered!({ processorOptions: { text, name: "lstm" } });
  assert.deepEqual(
    posted.map((message) => message.type),
    ["loaded"],
  );
  const input = Float32Array.from(
    { length: 128 * 40 },
    (_, i) => 0.5 * Math.sin(i / 7) * Math.exp(-i / 3000),
  );
  const left = new Float32Array(input.length);
  const right = new Float32Array(input.length);
  for (let at = 0; at < input.length; at += 128) {
    const outputs = [[new Float32Array(128), new Float32Array(128)]];
    assert.equal(node.process([[input.subarray(at, at + 128)]], outputs), true);
    left.set(outputs[0]![0]!, at);
    right.set(outputs[0]![1]!, at);
  }
  const model = createModel({ architecture: "lstm", hidden: 8 }, { seed: 5 });
  const processor = createStreamProcessor(model, { audioChannels: 1 });
  processor.prepare(RATE, 128);
  const want = processWhole(processor, [input], { sampleRate: RATE, blockSize: 128 })[0]!;
  assert.deepEqual(left, want);
  assert.deepEqual(right, want);
});

test("without a model, or with an unreadable one, the worklet outputs silence and says why", () => {
  posted.length = 0;
  const node = new Registered!({ processorOptions: { text: "{not json", name: "broken.nam" } });
  assert.equal(posted[0]?.type, "error");
  assert.match((posted[0] as { message: string }).message, /broken\.nam/);
  const output = new Float32Array(128).fill(7);
  node.process([[new Float32Array(128).fill(1)]], [[output]]);
  assert.ok(output.every((v) => v === 0));
});

test("the worklet's process() allocates nothing with the CPU meter off, and a bounded few bytes with it on", async () => {
  const node = new Registered!({ processorOptions: { text: modelText(), name: "lstm" } });
  const inputs = [[Float32Array.from({ length: 128 }, (_, i) => Math.sin(i))]];
  const outputs = [[new Float32Array(128), new Float32Array(128)]];
  const run = (calls: number) => {
    for (let i = 0; i < calls; i++) node.process(inputs, outputs);
  };
  run(5000); // let the JIT optimise it, as prepare's warm-up does for the runtime
  const off = await measureAllocation(() => run(5000));
  assert.ok(allocationFree(off), `meter off: new space grew ${off.newSpaceGrowth} bytes with ${off.gcs} GCs`);

  (node as unknown as { port: { onmessage: (event: { data: unknown }) => void } }).port.onmessage({
    data: { type: "meter", on: true },
  });
  run(5000);
  const on = await measureAllocation(() => run(5000));
  // The meter reads the clock twice every 4th quantum (Node's performance.now() leaves ~45 bytes per pair of
  // reads): at most 64 bytes per timed quantum, 80 kB over these 5000 quanta.
  assert.ok(
    on.gcs === 0 && on.newSpaceGrowth <= (5000 / 4) * 64,
    `meter on: new space grew ${on.newSpaceGrowth} bytes`,
  );
  assert.ok(
    posted.some((message) => message.type === "stats"),
    "the meter reports",
  );
});
