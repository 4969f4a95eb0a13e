import assert from "node:assert/strict";
import { test } from "node:test";
import { DeepspError, OptionError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { PRESETS } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import {
  createStreamProcessor,
  processWhole,
  type StreamProcessor,
  type StreamProcessorOptions,
} from "../../src/runtime/index.ts";

/** Small configs covering every architecture and option the runtime branches on. */
const SMALL: { name: string; config: Record<string, unknown> }[] = [
  { name: "linear", config: { architecture: "linear", taps: 9 } },
  { name: "linear stereo, no bias", config: { architecture: "linear", taps: 4, channels: 2, bias: false } },
  { name: "mlp", config: { architecture: "mlp", window: 12, hidden: [7, 5], activation: "tanh" } },
  { name: "mlp, no hidden layer", config: { architecture: "mlp", window: 6, hidden: [] } },
  {
    name: "seedconv dense",
    config: { architecture: "seedconv", filters: 6, kernelSize: 7, middle: "dense" },
  },
  {
    name: "seedconv per filter, untied, leaky relu",
    config: {
      architecture: "seedconv",
      filters: 5,
      kernelSize: 6,
      middle: "perFilter",
      tied: false,
      activation: "leakyRelu",
    },
  },
  {
    name: "seedconv no middle",
    config: { architecture: "seedconv", filters: 4, kernelSize: 5, middle: "none" },
  },
  { name: "tcn gated", config: { architecture: "tcn", width: 5, kernelSize: 3, dilations: [1, 2, 4, 8] } },
  {
    name: "tcn plain, stereo",
    config: {
      architecture: "tcn",
      channels: 2,
      width: 4,
      kernelSize: 2,
      dilations: [1, 3],
      gated: false,
      activation: "silu",
    },
  },
  {
    name: "tcn causal padding",
    config: { architecture: "tcn", width: 4, kernelSize: 3, dilations: [1, 2, 4], padding: "causal" },
  },
  {
    name: "wavenet two arrays",
    config: {
      architecture: "wavenet",
      layers: [
        { inputSize: 1, channels: 4, headSize: 3, kernelSize: 3, dilations: [1, 2, 4], headBias: false },
        { inputSize: 4, channels: 3, headSize: 1, kernelSize: 2, dilations: [1, 5], headBias: true },
      ],
      headScale: 0.5,
    },
  },
  {
    name: "wavenet gated (softsign), one array",
    config: {
      architecture: "wavenet",
      layers: [
        {
          inputSize: 1,
          channels: 3,
          headSize: 1,
          kernelSize: 3,
          dilations: [1, 3],
          gated: true,
          activation: "softsign",
          headBias: true,
        },
      ],
      headScale: 1,
    },
  },
  { name: "lstm 2 layers", config: { architecture: "lstm", hidden: 6, layers: 2 } },
  {
    name: "lstm stereo, no skip",
    config: { architecture: "lstm", hidden: 5, channels: 2, inputSkip: false },
  },
  { name: "gru", config: { architecture: "gru", hidden: 7 } },
  { name: "gru 3 layers stereo", config: { architecture: "gru", hidden: 4, layers: 3, channels: 2 } },
];

/** One preset per architecture for the block-split property (the heaviest realistic shapes). */
const SPLIT_PRESETS = [
  "linear-256",
  "mlp-study",
  "seedconv-study",
  "tcn-gated16",
  "wavenet-standard",
  "lstm-16",
  "gru-16",
];

/** A processor without prepare()'s JIT warm-up (these tests call prepare() hundreds of times). */
function stream(model: Model, options: StreamProcessorOptions = {}): StreamProcessor {
  return createStreamProcessor(model, { warmUpSamples: 0, ...options });
}

function build(config: Record<string, unknown>, seed = 7): Model {
  return createModel(config, { seed });
}

/** A test signal per channel: noise plus tones, peak about 1 (enough to drive the nonlinearities). */
function signal(channels: number, length: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: channels }, (_, c) => {
    const x = new Float32Array(length);
    const f = 0.01 + 0.03 * c;
    for (let t = 0; t < length; t++)
      x[t] = 0.6 * Math.sin(f * t) + 0.3 * Math.sin(0.37 * t) + 0.2 * rng.uniform(-1, 1);
    return x;
  });
}

/** model.forward on [zeros(receptiveField - 1), x]: [channels][length]. */
function modelReference(model: Model, x: Float32Array[]): Float32Array[] {
  const channels = x.length;
  const length = x[0]!.length;
  const padded = length + model.receptiveField - 1;
  const data = new Float32Array(channels * padded);
  x.forEach((row, c) => {
    data.set(row, c * padded + model.receptiveField - 1);
  });
  model.resetState();
  const y = model.forward({ data, batch: 1, channels, length: padded });
  assert.equal(y.length, length);
  return x.map((_, c) => Float32Array.from(y.data.subarray(c * length, (c + 1) * length)));
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): { diff: number; peak: number } {
  let diff = 0;
  let peak = 0;
  a.forEach((row, c) => {
    for (let t = 0; t < row.length; t++) {
      diff = Math.max(diff, Math.abs(row[t]! - b[c]![t]!));
      peak = Math.max(peak, Math.abs(b[c]![t]!));
    }
  });
  return { diff, peak };
}

function assertIdentical(actual: Float32Array[], expected: Float32Array[], what: string): void {
  actual.forEach((row, c) => {
    for (let t = 0; t < row.length; t++) {
      if (!Object.is(row[t], expected[c]![t])) {
        assert.fail(`${what}: channel ${c} sample ${t}: ${row[t]} !== ${expected[c]![t]}`);
      }
    }
  });
}

/** Processes `x` in blocks of the given sizes (cycled), after prepare(48000, maxBlock). */
function runSplit(
  processor: StreamProcessor,
  x: Float32Array[],
  sizes: number[],
  maxBlock: number,
): Float32Array[] {
  processor.prepare(48000, maxBlock);
  const length = x[0]!.length;
  const out = x.map(() => new Float32Array(length));
  let start = 0;
  for (let i = 0; start < length; i++) {
    const frames = Math.min(sizes[i % sizes.length]!, length - start);
    processor.process(
      x.map((row) => row.subarray(start, start + frames)),
      out.map((row) => row.subarray(start, start + frames)),
      frames,
    );
    start += frames;
  }
  return out;
}

/** Random block sizes in [1, maxBlock], log-uniform so single samples and whole 4096 blocks both occur. */
function randomSizes(rng: Rng, total: number, maxBlock: number): number[] {
  const sizes: number[] = [];
  for (let sum = 0; sum < total; ) {
    const size = Math.min(maxBlock, Math.max(1, Math.floor(Math.exp(rng.float() * Math.log(maxBlock + 1)))));
    sizes.push(size);
    sum += size;
  }
  return sizes;
}

test("streaming output equals model.forward on the zero-prefixed signal (small configs and every preset)", () => {
  const cases = [
    ...SMALL,
    ...PRESETS.map((preset) => ({
      name: `preset ${preset.name}`,
      config: preset.model as Record<string, unknown>,
    })),
  ];
  for (const { name, config } of cases) {
    const model = build(config);
    const x = signal(model.channels, 3000, 11);
    const expected = modelReference(model, x);
    const processor = stream(model);
    assert.equal(processor.channels, model.channels);
    assert.equal(processor.latencySamples, 0);
    for (const blockSize of [64, 1000]) {
      const { diff, peak } = maxAbsDiff(processWhole(processor, x, { blockSize }), expected);
      assert.ok(
        diff <= 1e-5 * Math.max(1, peak),
        `${name} (block ${blockSize}): max |diff| ${diff}, peak ${peak}`,
      );
    }
  }
});

test("every random block split (sizes 1..4096) gives bit-identical output to one block", () => {
  const rng = new Rng(2024);
  const cases = [
    ...SMALL.map(({ name, config }) => ({ name, config, length: 5000, splits: 24 })),
    ...SPLIT_PRESETS.map((name) => ({
      name: `preset ${name}`,
      config: PRESETS.find((preset) => preset.name === name)!.model as Record<string, unknown>,
      length: 9000,
      splits: 4,
    })),
  ];
  for (const { name, config, length, splits } of cases) {
    const model = build(config);
    const x = signal(model.channels, length, 5);
    const processor = stream(model);
    const whole = runSplit(processor, x, [length], length);
    for (let s = 0; s < splits; s++) {
      // Mostly maxBlock 4096; some small maxBlocks too, so the histories wrap around many times.
      const maxBlock = s === 0 ? 4096 : s % 4 === 3 ? [1, 3, 17, 64][rng.int(4)]! : 4096;
      const sizes = s === 0 ? [1] : randomSizes(rng, length, maxBlock);
      assertIdentical(
        runSplit(processor, x, sizes, maxBlock),
        whole,
        `${name}, split ${s} (maxBlock ${maxBlock})`,
      );
    }
  }
});

test("reset() returns to the state before any audio: the same input gives the same output", () => {
  for (const { name, config } of SMALL) {
    const model = build(config);
    const x = signal(model.channels, 700, 3);
    const processor = stream(model);
    const first = runSplit(processor, x, [37, 128, 5], 128);
    // Feed something else, reset, then the same input again (same block sizes).
    const other = signal(model.channels, 300, 99);
    processor.process(
      other,
      other.map((row) => new Float32Array(row.length)),
      128,
    );
    processor.reset();
    const out = x.map((row) => new Float32Array(row.length));
    let start = 0;
    for (let i = 0; start < x[0]!.length; i++) {
      const frames = Math.min([37, 128, 5][i % 3]!, x[0]!.length - start);
      processor.process(
        x.map((row) => row.subarray(start, start + frames)),
        out.map((row) => row.subarray(start, start + frames)),
        frames,
      );
      start += frames;
    }
    assertIdentical(out, first, `${name} after reset`);
  }
});

test("stereo audio through a mono model runs per channel with independent state", () => {
  for (const { name, config } of SMALL) {
    const model = build(config);
    if (model.channels !== 1) continue;
    const [left, right] = [signal(1, 1500, 1)[0]!, signal(1, 1500, 2)[0]!];
    const mono = stream(model);
    const expectedLeft = runSplit(mono, [left], [100], 100)[0]!;
    const expectedRight = runSplit(mono, [right], [100], 100)[0]!;
    const stereo = stream(model, { audioChannels: 2 });
    assert.equal(stereo.channels, 2);
    const out = runSplit(stereo, [left, right], [100, 3, 77], 100);
    assertIdentical(out, [expectedLeft, expectedRight], `${name} stereo`);
  }
});

test("prepare()'s JIT warm-up leaves no trace: the output is bit-identical to a processor without it", () => {
  for (const { name, config } of SMALL) {
    const model = build(config);
    const audioChannels = model.channels === 1 ? 2 : model.channels;
    const x = signal(audioChannels, 800, 12);
    const plain = runSplit(stream(model, { audioChannels }), x, [100], 100);
    const warmed = createStreamProcessor(model, { audioChannels, warmUpSamples: 3000 });
    assertIdentical(runSplit(warmed, x, [100], 100), plain, `${name} with warm-up`);
    assert.equal(warmed.faultCount, 0);
    assert.equal(warmed.lastFault, null);
  }
  const model = build(SMALL[0]!.config);
  assert.throws(() => createStreamProcessor(model, { warmUpSamples: -1 }), /warmUpSamples/);
});

test("a multichannel model takes exactly its channel count; bad audioChannels are rejected", () => {
  const stereoModel = build({ architecture: "lstm", hidden: 3, channels: 2 });
  assert.throws(() => stream(stereoModel, { audioChannels: 1 }), OptionError);
  assert.throws(() => stream(stereoModel, { audioChannels: 4 }), /processes exactly 2 audio channels/);
  const mono = build({ architecture: "gru", hidden: 3 });
  assert.throws(() => stream(mono, { audioChannels: 0 }), /audioChannels/);
  assert.throws(() => stream(mono, { audioChannels: 1.5 }), OptionError);
  const fake = { ...mono, toConfig: () => ({ architecture: "transformer" }) } as Model;
  assert.throws(
    () => stream(fake),
    (error: unknown) => error instanceof DeepspError && error.code === "runtime/unsupported-architecture",
  );
});

test("output may alias input (in-place processing), also with several channels", () => {
  for (const { name, config } of SMALL) {
    const model = build(config);
    const audioChannels = model.channels === 1 ? 2 : model.channels;
    const x = signal(audioChannels, 600, 8);
    const processor = stream(model, { audioChannels });
    const expected = runSplit(processor, x, [64], 64);
    const buffers = x.map((row) => Float32Array.from(row));
    processor.prepare(44100, 64);
    for (let start = 0; start < 600; start += 64) {
      const frames = Math.min(64, 600 - start);
      const views = buffers.map((row) => row.subarray(start, start + frames));
      processor.process(views, views, frames);
    }
    assertIdentical(buffers, expected, `${name} in place`);
  }
});

test("the processor copies the weights: changing the model afterwards does not change it", () => {
  const model = build({ architecture: "tcn", width: 3, dilations: [1, 2] });
  const processor = stream(model);
  const x = signal(1, 200, 4);
  const before = processWhole(processor, x, 50);
  model.parameters.values.fill(0);
  assertIdentical(processWhole(processor, x, 50), before, "after zeroing the model");
});

test("misuse of process() never throws: silence or correct pieces, and a fault recorded", () => {
  const model = build({ architecture: "tcn", width: 3, dilations: [1, 2, 4] });
  const processor = stream(model);
  const x = signal(1, 300, 6);
  const out = [new Float32Array(300).fill(7)];

  // Before prepare: silence.
  assert.equal(processor.lastFault, null);
  processor.reset(); // a no-op before prepare
  processor.process(x, out, 300);
  assert.deepEqual(Array.from(out[0]!.subarray(0, 300)), new Array(300).fill(0));
  assert.equal(processor.lastFault, "not-prepared");
  assert.equal(processor.faultCount, 1);

  // frames > maxBlock: processed in pieces of maxBlock, same output as a proper split.
  const expected = runSplit(processor, x, [50], 50);
  processor.prepare(48000, 50);
  processor.process(x, out, 300);
  assertIdentical(out, expected, "oversized block");
  assert.equal(processor.lastFault, "block-too-large");
  assert.equal(processor.faultCount, 2);

  // Missing channels, short buffers and bad frame counts: silence, state untouched.
  processor.prepare(48000, 64);
  const cases: [readonly Float32Array[], Float32Array[], number, string][] = [
    [[], [new Float32Array(64).fill(1)], 64, "missing-channels"],
    [x, [], 64, "missing-channels"],
    [[new Float32Array(10)], [new Float32Array(64).fill(1)], 64, "short-buffer"],
    [x, [new Float32Array(64).fill(1)], Number.NaN, "bad-frames"],
    [x, [new Float32Array(64).fill(1)], -3, "bad-frames"],
    [x, [new Float32Array(64).fill(1)], 2.5, "bad-frames"],
    [null as unknown as Float32Array[], [new Float32Array(64).fill(1)], 64, "missing-channels"],
    [x, undefined as unknown as Float32Array[], 64, "missing-channels"],
  ];
  for (const [input, output, frames, fault] of cases) {
    assert.doesNotThrow(() => processor.process(input, output, frames));
    assert.equal(processor.lastFault, fault);
    if (output?.[0] && Number.isInteger(frames) && frames > 0) {
      assert.ok(
        output[0].subarray(0, frames).every((v) => v === 0),
        `${fault}: silence`,
      );
    }
  }
  assert.equal(processor.faultCount, 2 + cases.length);
  // The faults left the state untouched: the stream continues as if they never happened.
  const clean = runSplit(stream(model), x, [64], 64);
  const resumed = [new Float32Array(300)];
  processor.prepare(48000, 64);
  for (let start = 0; start < 300; start += 64) {
    const frames = Math.min(64, 300 - start);
    processor.process([new Float32Array(3)], [new Float32Array(64)], frames); // short input: ignored
    processor.process(
      [x[0]!.subarray(start, start + frames)],
      [resumed[0]!.subarray(start, start + frames)],
      frames,
    );
  }
  assertIdentical(resumed, clean, "after ignored faulty calls");

  // frames = 0 is allowed and does nothing.
  const faults = processor.faultCount;
  processor.process(x, out, 0);
  assert.equal(processor.faultCount, faults);
});

test("prepare() validates its arguments with clear errors; processWhole validates its input", () => {
  const processor = stream(build({ architecture: "gru", hidden: 3 }));
  for (const rate of [0, -48000, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => processor.prepare(rate, 128), /sampleRate must be a positive number of Hz/);
  }
  for (const block of [0, -1, 1.5, Number.NaN, 2 ** 21]) {
    assert.throws(
      () => processor.prepare(48000, block),
      (error: unknown) => {
        return (
          error instanceof OptionError && /maxBlock must be a whole number of frames/.test(error.message)
        );
      },
    );
  }
  assert.throws(() => processWhole(processor, [new Float32Array(4), new Float32Array(4)]), /takes 1 channel/);
  const stereo = stream(build({ architecture: "gru", hidden: 3 }), { audioChannels: 2 });
  assert.throws(
    () => processWhole(stereo, [new Float32Array(4), new Float32Array(5)]),
    /channel 1 has 5 samples/,
  );
  assert.deepEqual(processWhole(stereo, [new Float32Array(0), new Float32Array(0)]), [
    new Float32Array(0),
    new Float32Array(0),
  ]);
});
