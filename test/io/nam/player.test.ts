import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { Rng } from "../../../src/core/rng.ts";
import { parseNamFile } from "../../../src/io/nam/file.ts";
import { createNamStreamProcessor, loadNamDsp, type NamDsp } from "../../../src/io/nam/player.ts";
import { processWhole } from "../../../src/runtime/index.ts";
import { allocationFree, measureAllocation } from "../../helpers/allocation.ts";
import { missingShared, sharedPath } from "../../helpers/shared.ts";

/*
 * The player against NAM core's own outputs (../shared/data/nam-reference, README.md there): every example model,
 * prewarm on and off, in blocks of 64, 4096, random sizes 1..4096 and 1. Tolerance (the reference's suggestion):
 * max |error| <= 1e-4 * max(1, peak |y|). Prewarm only changes the first receptive field (the longest is 6347
 * samples, A2's), so prewarm-off runs compare the first 24000 samples; block size 1 runs the first 20000.
 */

const REFERENCE = "nam-reference/";
const skip = missingShared(`${REFERENCE}README.md`);
const PREWARM_OFF_LENGTH = 24000;
const BLOCK_1_LENGTH = 20000;

function readF32(relative: string): Float32Array {
  const bytes = readFileSync(sharedPath(REFERENCE + relative));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function loadModel(name: string) {
  return parseNamFile(readFileSync(sharedPath(`${REFERENCE}models/${name}.nam`), "utf8"), `${name}.nam`);
}

/** Block sizes for a run: a fixed size, or seeded random sizes in [1, maxBlock]. */
interface Split {
  name: string;
  maxBlock: number;
  random: boolean;
  /** Samples compared (a prefix of the 144000). */
  length: number | null;
}

/** Runs `dsp` over input[0, length) in the split's blocks, from reset(prewarm). */
function render(
  dsp: NamDsp,
  input: Float32Array,
  split: Split,
  length: number,
  prewarm: boolean,
): Float32Array {
  const { maxBlock } = split;
  dsp.prepare(maxBlock);
  dsp.reset(prewarm);
  const rng = new Rng(2024);
  const x = new Float32Array(maxBlock);
  const y = new Float32Array(maxBlock);
  const output = new Float32Array(length);
  for (let start = 0; start < length; ) {
    const frames = Math.min(split.random ? 1 + rng.int(maxBlock) : maxBlock, length - start);
    x.set(input.subarray(start, start + frames));
    dsp.process(x, y, frames);
    output.set(y.subarray(0, frames), start);
    start += frames;
  }
  return output;
}

/** max |a - b| over b's length, and b's peak. */
function compare(actual: Float32Array, expected: Float32Array): { error: number; peak: number } {
  let error = 0;
  let peak = 0;
  for (let i = 0; i < actual.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
    peak = Math.max(peak, Math.abs(expected[i]!));
  }
  return { error, peak };
}

const MODELS = skip
  ? []
  : readdirSync(sharedPath(`${REFERENCE}models`))
      .filter((name) => name.endsWith(".nam"))
      .map((name) => name.slice(0, -".nam".length))
      .sort();

if (skip) test("NAM reference outputs", { skip }, () => {});

for (const name of MODELS) {
  // my_model.nam is a byte-identical copy of wavenet_a1_standard.nam; its outputs are stored under that name.
  const outputs = name === "my_model" ? "wavenet_a1_standard" : name;
  for (const prewarm of [true, false]) {
    const file = `out/${outputs}${prewarm ? "" : ".noprewarm"}.bs64.f32`;
    const fullLength = prewarm ? null : PREWARM_OFF_LENGTH;
    const splits: Split[] = [
      { name: "blocks of 64", maxBlock: 64, random: false, length: fullLength },
      { name: "blocks of 4096", maxBlock: 4096, random: false, length: fullLength },
      { name: "random blocks 1..4096", maxBlock: 4096, random: true, length: fullLength },
      { name: "blocks of 1", maxBlock: 1, random: false, length: BLOCK_1_LENGTH },
    ];
    test(`${name}.nam plays as NAM core, prewarm ${prewarm ? "on" : "off"} (${file})`, async (t) => {
      assert.ok(existsSync(sharedPath(REFERENCE + file)), `missing reference ${file}`);
      const input = readF32("input.f32");
      const expected = readF32(file);
      const dsp = loadNamDsp(loadModel(name));
      for (const split of splits) {
        const length = split.length ?? input.length;
        await t.test(`${split.name}, ${length} samples`, () => {
          const actual = render(dsp, input, split, length, prewarm);
          const { error, peak } = compare(actual, expected.subarray(0, length));
          const bound = 1e-4 * Math.max(1, peak);
          t.diagnostic(`${split.name}: max |error| ${error.toExponential(2)} (peak ${peak.toFixed(3)})`);
          assert.ok(error <= bound, `max |error| ${error} > ${bound} (peak ${peak})`);
        });
      }
    });
  }
}

/*
 * exactActivations: tanh, sigmoid and SiLU in float64 (the WaveNet's fused wasm layers), the JS cells (LSTM): the
 * player as it computed before the fused kernels, whose errors the default (fast, ~1e-7 activations) may exceed by
 * a little. Blocks of 64, prewarm on; both errors printed.
 */
for (const name of MODELS) {
  const outputs = name === "my_model" ? "wavenet_a1_standard" : name;
  test(`${name}.nam with exact activations plays as NAM core too`, (t) => {
    const input = readF32("input.f32");
    const expected = readF32(`out/${outputs}.bs64.f32`);
    const split: Split = { name: "", maxBlock: 64, random: false, length: null };
    const file = loadModel(name);
    const exact = compare(
      render(loadNamDsp(file, { exactActivations: true }), input, split, input.length, true),
      expected,
    );
    const fast = compare(render(loadNamDsp(file), input, split, input.length, true), expected);
    t.diagnostic(
      `max |error|: exact ${exact.error.toExponential(2)}, fast ${fast.error.toExponential(2)} (peak ${exact.peak.toFixed(3)})`,
    );
    const bound = 1e-4 * Math.max(1, exact.peak);
    assert.ok(exact.error <= bound, `exact: max |error| ${exact.error} > ${bound}`);
  });
}

test("the wasm kernels give the same samples whatever the block split (A1 WaveNet, LSTM; prewarm off)", {
  skip,
}, () => {
  const input = readF32("input.f32");
  for (const name of ["wavenet_a1_standard", "lstm", "wavenet_a2_max"]) {
    const file = loadModel(name);
    const whole = render(
      loadNamDsp(file),
      input,
      { name: "", maxBlock: 4096, random: false, length: null },
      20000,
      false,
    );
    for (const maxBlock of [1, 37, 4096]) {
      const split: Split = { name: "", maxBlock, random: maxBlock !== 1, length: null };
      assert.deepEqual(
        render(loadNamDsp(file), input, split, 20000, false),
        whole,
        `${name}, blocks up to ${maxBlock}`,
      );
    }
  }
});

test("the fused wasm layers and recurrent steps do not allocate in process() (A1 WaveNet, LSTM)", {
  skip,
}, async () => {
  const inputs = [readF32("input.f32").slice(0, 64)];
  for (const name of ["wavenet_a1_standard", "lstm"]) {
    const processor = createNamStreamProcessor(loadModel(name), { warmUpSamples: 1024 });
    processor.prepare(48000, 64);
    const output = [new Float32Array(64)];
    const m = await measureAllocation(() => {
      for (let i = 0; i < 3000; i++) processor.process(inputs, output, 1 + (i % 64));
    });
    assert.ok(allocationFree(m), `${name}: new space grew ${m.newSpaceGrowth} bytes, ${m.gcs} GCs`);
  }
});

test("exactActivations must be a boolean", { skip }, () => {
  assert.throws(
    () => loadNamDsp(loadModel("lstm"), { exactActivations: 1 as unknown as boolean }),
    /exactActivations: expected true or false/,
  );
});

test("the stream processor plays a .nam file like the player, per channel, after reset too", { skip }, () => {
  const input = readF32("input.f32").subarray(0, 12000);
  const expected = readF32("out/wavenet_condition_dsp.bs64.f32").subarray(0, 12000);
  const file = loadModel("wavenet_condition_dsp");
  const processor = createNamStreamProcessor(file, { audioChannels: 2, warmUpSamples: 2048 });
  const reversed = input.slice().reverse();
  const first = processWhole(processor, [input, reversed], { blockSize: 64, sampleRate: 48000 });
  assert.ok(compare(first[0]!, expected).error <= 1e-4);
  // Channel 1 ran its own stream: the mono player's output for its input.
  const mono = render(
    loadNamDsp(file),
    reversed,
    { name: "", maxBlock: 64, random: false, length: null },
    12000,
    true,
  );
  assert.ok(compare(first[1]!, mono).error === 0);
  // processWhole prepares again; reset() alone also returns to the prewarmed state.
  processor.reset();
  const output = [new Float32Array(64), new Float32Array(64)];
  processor.process([input.subarray(0, 64), reversed.subarray(0, 64)], output, 64);
  assert.deepEqual(output[0], first[0]!.subarray(0, 64));
  assert.equal(processor.faultCount, 0);
});
