import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import type { Pair } from "../../src/data/pair.ts";
import { splitFrames } from "../../src/data/split.ts";
import { Windows, windowsForRole } from "../../src/data/windows.ts";

/** A stereo pair whose samples encode their own position: input = frame + channel / 10, target = -input. */
function countingPair(frames: number): Pair {
  const channel = (c: number, sign: number) =>
    Float32Array.from({ length: frames }, (_, n) => sign * (n + c / 10));
  return {
    input: { sampleRate: 1000, channels: [channel(0, 1), channel(1, 1)] },
    target: { sampleRate: 1000, channels: [channel(0, -1), channel(1, -1)] },
  };
}

test("every batch holds exactly the windows it names, laid out [batch, channel, time]", () => {
  const pair = countingPair(5000);
  const windows = new Windows([{ pair, regions: [{ start: 0, end: 5000 }] }], {
    length: 64,
    prefix: 15,
    hop: 20,
  });
  let seen = 0;
  for (const batch of windows.batches({ batchSize: 7, seed: 3 })) {
    assert.equal(batch.input.length, batch.size * 2 * (15 + 64));
    assert.equal(batch.target.length, batch.size * 2 * 64);
    for (let b = 0; b < batch.size; b++) {
      const { start } = windows.locate(batch.windows[b]!);
      for (let c = 0; c < 2; c++) {
        const inputRow = batch.input.subarray((b * 2 + c) * 79, (b * 2 + c + 1) * 79);
        const targetRow = batch.target.subarray((b * 2 + c) * 64, (b * 2 + c + 1) * 64);
        assert.equal(inputRow[0], Math.fround(start - 15 + c / 10));
        assert.equal(inputRow[78], Math.fround(start + 63 + c / 10));
        assert.equal(targetRow[0], Math.fround(-(start + c / 10)));
        assert.equal(targetRow[63], -inputRow[78]!);
      }
    }
    seen += batch.size;
  }
  assert.equal(seen, windows.count);
});

test("windows stay inside their role's regions, prefix included", () => {
  const pair = countingPair(10000);
  const split = splitFrames(10000, 1000);
  const options = { length: 100, prefix: 49, overlap: 4 };
  for (const role of ["train", "validation", "test"] as const) {
    const windows = windowsForRole([{ name: "take", pair, split }], role, options);
    const region = split.regions[role][0]!;
    for (let w = 0; w < windows.count; w++) {
      const { start } = windows.locate(w);
      assert.ok(start - 49 >= region.start && start + 100 <= region.end, `${role} window at ${start}`);
    }
  }
});

test("the overlap factor sets how often each frame is used, and region ends are covered", () => {
  const pair = countingPair(20000);
  const windows = new Windows([{ pair, regions: [{ start: 1000, end: 19000 }] }], {
    length: 1000,
    overlap: 10,
  });
  assert.equal(windows.hop, 100);
  const uses = new Int32Array(20000);
  for (let w = 0; w < windows.count; w++) {
    const { start } = windows.locate(w);
    for (let n = start; n < start + 1000; n++) uses[n]!++;
  }
  assert.equal(uses[999], 0);
  assert.equal(uses[19000], 0);
  assert.equal(uses[10000], 10);
  assert.ok(uses[1000]! >= 1 && uses[18999]! >= 1, "both region ends are used");
  // With a hop that does not divide the region, one extra window ends flush with the region.
  const ragged = new Windows([{ pair, regions: [{ start: 0, end: 1050 }] }], { length: 1000, hop: 30 });
  assert.deepEqual(
    [0, 1].map((w) => ragged.locate(w).start),
    [0, 30],
  );
  assert.equal(ragged.locate(2).start, 50);
});

test("shuffling is seeded per epoch: reproducible, different between epochs, every window once", () => {
  const windows = new Windows([{ pair: countingPair(3000), regions: [{ start: 0, end: 3000 }] }], {
    length: 32,
  });
  const order = (epoch: number, seed = 7) =>
    [...windows.batches({ batchSize: 1000, epoch, seed })].flatMap((b) => [...b.windows]);
  assert.deepEqual(order(2), order(2));
  assert.notDeepEqual(order(2), order(3));
  assert.notDeepEqual(order(2, 7), order(2, 8));
  assert.deepEqual(
    [...order(1)].sort((a, b) => a - b),
    Array.from({ length: windows.count }, (_, i) => i),
  );
  const plain = [...windows.batches({ batchSize: 1000, shuffle: false })].flatMap((b) => [...b.windows]);
  assert.deepEqual(
    plain,
    Array.from({ length: windows.count }, (_, i) => i),
  );
});

test("split stereo makes one mono window per channel", () => {
  const pair = countingPair(1000);
  const windows = new Windows([{ pair, regions: [{ start: 0, end: 1000 }] }], {
    length: 100,
    hop: 100,
    stereo: "split",
  });
  assert.equal(windows.count, 20);
  assert.equal(windows.channels, 1);
  const [batch] = [...windows.batches({ batchSize: 20, shuffle: false })];
  assert.equal(batch!.input[100], Math.fround(0.1)); // window 1 = channel 1 of the first start
});

test("bad options and empty roles are rejected clearly", () => {
  const pair = countingPair(1000);
  const regions = [{ start: 0, end: 1000 }];
  assert.throws(
    () => new Windows([{ pair, regions }], { length: 0 }),
    /length must be a whole number of frames > 0/,
  );
  assert.throws(
    () => new Windows([{ pair, regions: [{ start: 0, end: 2000 }] }], { length: 10 }),
    /within 0..1000/,
  );
  const split = splitFrames(1000, 1000);
  assert.throws(
    () => windowsForRole([{ name: "take", pair, split }], "test", { length: 200 }),
    (error: unknown) =>
      error instanceof OptionError &&
      /no test window fits: .* 200 frames, the longest test region has 100/.test(error.message),
  );
});
