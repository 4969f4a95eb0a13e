import assert from "node:assert/strict";
import { test } from "node:test";
import { type Audio, peak, rms } from "../../src/audio/audio.ts";
import { DeepspError, OptionError, ToolError } from "../../src/core/errors.ts";
import { renderMidi } from "../../src/node/material/fluidsynth.ts";
import { externalMaterials, findExternalMaterial } from "../../src/node/material/index.ts";
import { writeMidiFile } from "../../src/node/material/midi.ts";
import { checkDecoded, loadSample } from "../../src/node/material/samples.ts";

/**
 * Every external kind renders real audio through its real tool. A kind whose tool is missing here is
 * skipped with the install line (CI installs fluidsynth, fluid-soundfont-gm and espeak-ng).
 */

const reasons = new Map<string, string | undefined>();
for (const kind of externalMaterials) reasons.set(kind.name, await kind.unavailableReason());
const skipUnless = (name: string): string | false => {
  const reason = reasons.get(name);
  return reason === undefined ? false : `${name}: ${reason}`;
};

function kind(name: string) {
  const found = findExternalMaterial(name);
  assert.ok(found, `kind ${name}`);
  return found;
}

/** Equal sample by sample, bit for bit. */
function assertSameAudio(a: Audio, b: Audio, what: string): void {
  assert.equal(a.sampleRate, b.sampleRate);
  assert.equal(a.channels.length, b.channels.length);
  a.channels.forEach((channel, c) => {
    const other = b.channels[c]!;
    assert.equal(channel.length, other.length);
    const differing = channel.findIndex((x, i) => !Object.is(x, other[i]));
    assert.equal(differing, -1, `${what}: channel ${c} differs first at sample ${differing}`);
  });
}

function sameAudio(a: Audio, b: Audio): boolean {
  return a.channels.every((channel, c) => channel.every((x, i) => x === b.channels[c]![i]));
}

/** Checks rate, exact length, channels, exact peak, and that every second of it has sound in it. */
function assertShape(
  audio: Audio,
  expected: { sampleRate: number; seconds: number; channels: number; amplitude: number },
): void {
  assert.equal(audio.sampleRate, expected.sampleRate);
  assert.equal(audio.channels.length, expected.channels);
  for (const channel of audio.channels)
    assert.equal(channel.length, Math.round(expected.seconds * expected.sampleRate));
  assert.ok(
    Math.abs(peak(audio) - expected.amplitude) < 1e-6,
    `peak ${peak(audio)}, expected ${expected.amplitude}`,
  );
  assert.ok(
    audio.channels.every((c) => c.every(Number.isFinite)),
    "finite samples",
  );
  for (let second = 0; second < expected.seconds; second++) {
    const start = second * expected.sampleRate;
    const slice = {
      sampleRate: audio.sampleRate,
      channels: audio.channels.map((c) => c.subarray(start, start + expected.sampleRate)),
    };
    assert.ok(rms(slice) > 0.003, `second ${second} is not silent (rms ${rms(slice)})`);
  }
}

test("the catalogue lists piano, guitar, speech and samples with described options", () => {
  assert.deepEqual(
    externalMaterials.map((k) => k.name),
    ["piano", "guitar", "speech", "samples"],
  );
  for (const k of externalMaterials) {
    for (const [field, schema] of Object.entries(k.schema.shape)) {
      assert.ok((schema as { description?: string }).description, `${k.name}.${field} has a description`);
    }
    for (const field of ["sampleRate", "seconds", "amplitude", "channels", "seed"])
      assert.ok(field in k.schema.shape);
  }
});

const CASES = [
  { name: "piano", options: { instrument: "grand" } },
  { name: "guitar", options: { instrument: "clean" } },
  { name: "speech", options: {} },
  { name: "samples", options: { group: "drums" } },
] as const;

for (const { name, options } of CASES) {
  test(`${name}: the requested rate, length, channels and peak; not silent; same seed, same samples`, {
    skip: skipUnless(name),
  }, async () => {
    const common = { sampleRate: 44100, seconds: 3, channels: 2, amplitude: 0.3, seed: 7 };
    const started = performance.now();
    const first = await kind(name).generate({ ...options, ...common });
    const renderSeconds = (performance.now() - started) / 1000;
    assertShape(first, common);
    assertSameAudio(await kind(name).generate({ ...options, ...common }), first, `${name} run twice`);
    const otherSeed = await kind(name).generate({ ...options, ...common, seed: 8 });
    assert.ok(!sameAudio(otherSeed, first), "another seed gives other audio");

    const mono = await kind(name).generate({
      ...options,
      sampleRate: 22050,
      seconds: 2,
      channels: 1,
      amplitude: 0.9,
    });
    assertShape(mono, { sampleRate: 22050, seconds: 2, channels: 1, amplitude: 0.9 });
    console.log(`${name}: 3 s stereo at 44.1 kHz rendered in ${renderSeconds.toFixed(2)} s`);
  });
}

test("piano: a rate outside fluidsynth's 8-96 kHz is rendered at 48 kHz and resampled", {
  skip: skipUnless("piano"),
}, async () => {
  const audio = await kind("piano").generate({ sampleRate: 192000, seconds: 1, amplitude: 0.5 });
  assertShape(audio, { sampleRate: 192000, seconds: 1, channels: 1, amplitude: 0.5 });
});

test("speech: stereo is two copies of the mono voice; given text is spoken", {
  skip: skipUnless("speech"),
}, async () => {
  const stereo = await kind("speech").generate({ seconds: 2, channels: 2, text: "Testing one two three." });
  assert.deepEqual(stereo.channels[0], stereo.channels[1]);
  // Short text fills the length by repeating, so the end is not silent.
  const long = await kind("speech").generate({ seconds: 6, sampleRate: 16000, text: "Hello." });
  assertShape(long, { sampleRate: 16000, seconds: 6, channels: 1, amplitude: 0.5 });
  await assert.rejects(kind("speech").generate({ seconds: 1, voice: "nosuchvoice" }), (error: unknown) => {
    assert.ok(error instanceof ToolError && error.code === "tool/failed", String(error));
    assert.match(error.message, /^espeak-ng exited with code 1; stderr: .*voice does not exist/);
    return true;
  });
});

test("fluidsynth reads our MIDI file: a 2-byte delta time puts A4 where it belongs, at 440 Hz", {
  skip: skipUnless("piano"),
}, async () => {
  // 96 ticks per quarter at 120 bpm: tick 0x80 (the first delta needing two bytes) is 128/96 * 0.5 s = 0.667 s.
  const midi = writeMidiFile({
    ticksPerQuarter: 96,
    events: [
      { type: "tempo", tick: 0, microsecondsPerQuarter: 500000 },
      { type: "programChange", tick: 0, channel: 0, program: 0 },
      { type: "noteOn", tick: 0x80, channel: 0, note: 69, velocity: 100 },
      { type: "noteOff", tick: 0x80 + 96, channel: 0, note: 69, velocity: 0 },
    ],
  });
  const rate = 48000;
  const audio = await renderMidi({
    midi,
    sampleRate: rate,
    soundfont: "/usr/share/sounds/sf2/FluidR3_GM.sf2",
  });
  const left = audio.channels[0]!;
  const onset = left.findIndex((x) => Math.abs(x) > 1e-3) / rate;
  assert.ok(Math.abs(onset - 0.6667) < 0.01, `onset at ${onset} s`);

  // Pitch by autocorrelation over 100 ms after the attack: the best lag between 1.5 and 3 ms, refined
  // between samples by a parabola through the peak and its neighbours.
  const start = Math.round((onset + 0.05) * rate);
  const window = left.subarray(start, start + 4800);
  const correlation = (lag: number): number => {
    let sum = 0;
    for (let i = 0; i + lag < window.length; i++) sum += window[i]! * window[i + lag]!;
    return sum;
  };
  let bestLag = 72;
  for (let lag = 72; lag <= 144; lag++) if (correlation(lag) > correlation(bestLag)) bestLag = lag;
  const [before, at, after] = [correlation(bestLag - 1), correlation(bestLag), correlation(bestLag + 1)];
  const lag = bestLag + (0.5 * (before - after)) / (before - 2 * at + after);
  assert.ok(Math.abs(rate / lag - 440) < 440 * 0.01, `pitch ${rate / lag} Hz`);
});

test("missing tools: unavailableReason and generate name the Debian package", async () => {
  const path = process.env["PATH"];
  process.env["PATH"] = "";
  try {
    assert.equal(
      await kind("piano").unavailableReason(),
      "fluidsynth is not installed (apt-get install -y fluidsynth fluid-soundfont-gm)",
    );
    assert.equal(
      await kind("speech").unavailableReason(),
      "espeak-ng is not installed (apt-get install -y espeak-ng)",
    );
    assert.equal(await kind("samples").unavailableReason(), undefined, "samples need no program");
    for (const name of ["guitar", "speech"]) {
      await assert.rejects(kind(name).generate({ seconds: 1 }), (error: unknown) => {
        assert.ok(error instanceof ToolError && error.code === "tool/missing", String(error));
        assert.match(error.message, /is not installed \(apt-get install -y /);
        return true;
      });
    }
  } finally {
    process.env["PATH"] = path;
  }
});

test("a missing SoundFont is tool/missing (fluidsynth itself would render silence)", async () => {
  await assert.rejects(
    kind("piano").generate({ seconds: 1, soundfont: "/nonexistent/piano.sf2" }),
    (error: unknown) =>
      error instanceof ToolError &&
      error.code === "tool/missing" &&
      /piano\.sf2 does not exist/.test(error.message),
  );
});

test("options are validated at the boundary, naming the field", async () => {
  const rejectsOption = (promise: Promise<unknown>, message: RegExp) =>
    assert.rejects(promise, (error: unknown) => error instanceof OptionError && message.test(error.message));
  await rejectsOption(
    kind("piano").generate({ seconds: 1, tempo: 3 } as never),
    /piano options: unknown option "tempo" \(valid: .*seed/,
  );
  await rejectsOption(
    kind("guitar").generate({ instrument: "banjo" } as never),
    /guitar options: instrument/,
  );
  await rejectsOption(kind("speech").generate({ wordsPerMinute: 5 }), /speech options: wordsPerMinute/);
  await rejectsOption(kind("speech").generate({ voice: "-x" }), /speech options: voice/);
  await rejectsOption(kind("samples").generate({ channels: 3 } as never), /samples options: channels/);
  await rejectsOption(kind("samples").generate({ seconds: 0 }), /samples options: seconds/);
  await rejectsOption(
    kind("piano").generate({ seconds: 1e-6 }),
    /piano options: seconds: .* less than one sample/,
  );
  await rejectsOption(
    kind("samples").generate({ names: ["guit_em9", "no_such_clip"] }),
    /unknown sample\(s\) no_such_clip/,
  );
});

test("samples: named clips play in the given order; audio-decode's silent failures are caught", {
  skip: skipUnless("samples"),
}, async () => {
  const clip = await loadSample("guit_em9");
  assert.equal(clip.sampleRate, 44100);
  const audio = await kind("samples").generate({
    names: ["guit_em9"],
    seconds: 1,
    sampleRate: 44100,
    amplitude: 1,
    gapSeconds: 0,
  });
  // At the clip's own rate with its own peak scaled to 1, the output is the clip's first second, mixed to mono.
  const left = clip.channels[0]!;
  const right = clip.channels[1] ?? left;
  const level = peak(clip);
  const expected = Array.from({ length: 1000 }, (_, i) => (left[i]! / level + right[i]! / level) / 2);
  // finish() normalises the cut second to peak 1: one gain for all of it.
  const loudest = expected.reduce((best, x, i) => (Math.abs(x) > Math.abs(expected[best]!) ? i : best), 0);
  const gain = audio.channels[0]![loudest]! / expected[loudest]!;
  for (let i = 0; i < 1000; i++)
    assert.ok(Math.abs(audio.channels[0]![i]! - gain * expected[i]!) < 1e-6, `sample ${i}`);

  assert.throws(
    () => checkDecoded({ channelData: [new Float32Array(10)], sampleRate: 0 }, "x.flac"),
    (error: unknown) => {
      assert.ok(error instanceof DeepspError && error.code === "material/decode");
      assert.match(error.message, /x\.flac: audio-decode returned rate 0 Hz/);
      return true;
    },
  );
  assert.throws(() => checkDecoded({ channelData: [], sampleRate: 44100 }, "y.flac"), /0 channel/);
  await assert.rejects(
    loadSample("no_such_clip"),
    (error: unknown) => error instanceof DeepspError && error.code === "material/decode",
  );
});
