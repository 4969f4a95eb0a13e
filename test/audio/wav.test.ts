import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Audio } from "../../src/audio/audio.ts";
import {
  type DecodedWav,
  decodeWav,
  describeFormat,
  encodeWav,
  type WavEncoding,
} from "../../src/audio/wav.ts";
import { OptionError, WavError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import {
  ascii,
  chunk,
  concat,
  f32,
  f64,
  fmtChunk,
  pcmWav,
  riff,
  s16,
  s24,
  s32,
  subFormatGuid,
  u8,
  u16,
  u32,
} from "../helpers/wav-fixtures.ts";

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** The samples of each channel as plain numbers, for deepEqual on small hand-made files. */
function channelsOf(decoded: DecodedWav): number[][] {
  return decoded.audio.channels.map((channel) => Array.from(channel));
}

function audioOf(sampleRate: number, ...channels: number[][]): Audio {
  return { sampleRate, channels: channels.map((values) => Float32Array.from(values)) };
}

/** Runs `fn`, expects a WavError with `code` whose message contains every fragment. */
function assertWavError(fn: () => unknown, code: string, ...fragments: string[]): WavError {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof WavError, `expected a WavError (${code}), got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  for (const fragment of fragments) {
    assert.ok(
      error.message.includes(fragment),
      `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`,
    );
  }
  return error;
}

/** All channels interleaved frame by frame, the order raw f32 output from sox/ffmpeg has. */
function interleave(audio: Audio): Float32Array {
  const n = audio.channels.length;
  const frames = audio.channels[0]?.length ?? 0;
  const out = new Float32Array(frames * n);
  audio.channels.forEach((channel, c) => {
    for (let f = 0; f < frames; f++) out[f * n + c] = channel[f]!;
  });
  return out;
}

/** Compares long sample arrays, reporting the count and the first mismatch instead of a huge diff. */
function assertSameSamples(
  actual: Float32Array,
  expected: Float32Array,
  tolerance: number,
  label: string,
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${label}: ${actual.length} samples, expected ${expected.length}`,
  );
  let bad = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance)) {
      bad++;
      if (first < 0) first = i;
    }
  }
  assert.equal(
    bad,
    0,
    `${label}: ${bad} samples differ by more than ${tolerance}; first at ${first}: ${actual[first]} vs ${expected[first]}`,
  );
}

/** Uniform pseudo-random samples in [-amplitude, amplitude), seeded. */
function noise(seed: number, length: number, amplitude: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.uniform(-amplitude, amplitude));
}

/** Rounds every sample onto the `bits`-bit PCM grid (so a PCM round trip must be exact). */
function onGrid(samples: Float32Array, bits: number): Float32Array {
  const full = 2 ** (bits - 1);
  return samples.map((x) => Math.min(full - 1, Math.max(-full, Math.round(x * full))) / full);
}

// External engines ------------------------------------------------------------------------------------------

function installed(command: string, versionFlag: string): boolean {
  return spawnSync(command, [versionFlag], { stdio: "ignore" }).status === 0;
}
const HAVE_SOX = installed("sox", "--version");
const HAVE_FFMPEG = installed("ffmpeg", "-version");
const NO_ENGINES =
  HAVE_SOX && HAVE_FFMPEG
    ? false
    : "sox and/or ffmpeg not installed (Debian: apt-get install sox ffmpeg): skipping interop";

/** Runs a tool; fails the test on a non-zero exit. stdout as bytes, stderr as text. */
function run(command: string, args: string[]): { stdout: Uint8Array; stderr: string } {
  const result = spawnSync(command, args, { maxBuffer: 1 << 30 });
  const stderr = result.stderr?.toString() ?? "";
  assert.equal(result.status, 0, `${command} ${args.join(" ")} failed: ${result.error ?? stderr}`);
  return { stdout: new Uint8Array(result.stdout), stderr };
}

/** Raw little-endian float32 bytes -> Float32Array (copied, so alignment does not matter). */
function floats(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.slice().buffer);
}

/** sox's own decode of a file, as interleaved float32. */
function soxFloats(path: string): { samples: Float32Array; stderr: string } {
  const { stdout, stderr } = run("sox", [path, "-t", "f32", "-"]);
  return { samples: floats(stdout), stderr };
}

/**
 * ffmpeg's own decode of a file, as interleaved float32. ffmpeg's CLI prints "Guessed Channel Layout for
 * Input Stream" for every plain (non-extensible) WAV, its own files included: that line says the file has no
 * speaker mask, not that anything is wrong, so it is removed; everything else on stderr is kept.
 */
function ffmpegFloats(path: string): { samples: Float32Array; stderr: string } {
  const { stdout, stderr } = run("ffmpeg", ["-nostdin", "-v", "warning", "-i", path, "-f", "f32le", "-"]);
  const kept = stderr
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("Guessed Channel Layout for Input Stream"));
  return { samples: floats(stdout), stderr: kept.join("\n") };
}

/**
 * sox converts every sample to its internal int32 and back; to float it rounds to a multiple of 2^-24
 * (SOX_SAMPLE_TO_FLOAT_32BIT), so for 32-bit integer and float files it is within 2^-24 of the exact value
 * (which ffmpeg gives). For 8/16/24-bit files its output is exact.
 */
const SOX_FLOAT_STEP = 2 ** -24;

const tempDir = mkdtempSync(join(tmpdir(), "deepsp-wav-test-"));
after(() => rmSync(tempDir, { recursive: true, force: true }));
let tempCount = 0;
function tempPath(name: string): string {
  tempCount++;
  return join(tempDir, `${tempCount}-${name}`);
}

// ---------------------------------------------------------------------------------------------------------

describe("decodeWav: sample formats", () => {
  test("8-bit PCM is unsigned: (b - 128) / 128", () => {
    const decoded = decodeWav(pcmWav(1, 8000, 8, u8(0, 128, 255, 1, 129)));
    assert.deepEqual(channelsOf(decoded), [[-1, 0, 127 / 128, -127 / 128, 1 / 128]]);
    assert.deepEqual(decoded.format, {
      formatTag: 1,
      sampleFormat: "pcm",
      bitsPerSample: 8,
      validBitsPerSample: 8,
      channelCount: 1,
      sampleRate: 8000,
      blockAlign: 1,
    });
    assert.equal(decoded.audio.sampleRate, 8000);
    assert.deepEqual(decoded.warnings, []);
  });

  test("16-bit PCM stereo: full scale is [-1, 1), channels deinterleaved", () => {
    const decoded = decodeWav(pcmWav(2, 44100, 16, s16(-32768, 32767, 0, 1, -1, 16384)));
    assert.deepEqual(channelsOf(decoded), [
      [-1, 0, -(2 ** -15)],
      [1 - 2 ** -15, 2 ** -15, 0.5],
    ]);
    assert.equal(decoded.format.blockAlign, 4);
  });

  test("24-bit PCM: 0x800000 -> -1, 0x7FFFFF -> 1 - 2^-23", () => {
    const decoded = decodeWav(pcmWav(1, 48000, 24, s24(0x800000, 0x7fffff, 1, 0xffffff, 0x400000)));
    assert.deepEqual(channelsOf(decoded), [[-1, 1 - 2 ** -23, 2 ** -23, -(2 ** -23), 0.5]]);
  });

  test("32-bit PCM: scaled by 2^-31 and rounded to float32 (2^31 - 1 becomes exactly 1)", () => {
    const decoded = decodeWav(pcmWav(1, 48000, 32, s32(-2147483648, 2147483647, 1, 0x40000000, -1)));
    assert.deepEqual(channelsOf(decoded), [[-1, 1, 2 ** -31, 0.5, -(2 ** -31)]]);
  });

  test("IEEE float 32 with a 16-byte fmt and no fact (as many writers do), values beyond +-1 kept", () => {
    const values = [0.5, -1.25, 1e-30, 3, -0.1];
    const file = riff([
      fmtChunk({ formatTag: 3, channelCount: 1, sampleRate: 48000, bitsPerSample: 32 }),
      chunk("data", f32(...values)),
    ]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [values.map(Math.fround)]);
    assert.equal(decoded.format.sampleFormat, "float");
  });

  test("IEEE float 32 with an 18-byte fmt (cbSize 0) and a fact chunk", () => {
    const file = riff([
      fmtChunk({ formatTag: 3, channelCount: 2, sampleRate: 96000, bitsPerSample: 32, cbSize: 0 }),
      chunk("fact", u32(2)),
      chunk("data", f32(0.25, -0.75, 1, -1)),
    ]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [
      [0.25, 1],
      [-0.75, -1],
    ]);
    assert.deepEqual(decoded.warnings, []);
  });

  test("IEEE float 64 is rounded to the nearest float32", () => {
    const values = [0.1, -2.5, 1 / 3, 1e-40];
    const file = riff([
      fmtChunk({ formatTag: 3, channelCount: 1, sampleRate: 44100, bitsPerSample: 64 }),
      chunk("data", f64(...values)),
    ]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [values.map(Math.fround)]);
    assert.equal(decoded.format.bitsPerSample, 64);
  });

  test("extensible PCM, 24 valid bits in a 32-bit container, scaled by the container", () => {
    const file = riff([
      fmtChunk({
        formatTag: 0xfffe,
        channelCount: 2,
        sampleRate: 48000,
        bitsPerSample: 32,
        extensible: { validBits: 24, channelMask: 0x3, subFormat: 1 },
      }),
      chunk("data", s32(0x7fffff * 256, -0x800000 * 256, 0x100, -0x100)),
    ]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [
      [1 - 2 ** -23, 2 ** -23],
      [-1, -(2 ** -23)],
    ]);
    assert.deepEqual(decoded.format, {
      formatTag: 0xfffe,
      sampleFormat: "pcm",
      bitsPerSample: 32,
      validBitsPerSample: 24,
      channelCount: 2,
      sampleRate: 48000,
      blockAlign: 8,
      channelMask: 0x3,
    });
    assert.equal(
      describeFormat(decoded.format),
      "24-bit PCM in 32-bit container (extensible), 2 ch, 48000 Hz",
    );
  });

  test("extensible float 32, 4 channels (quad)", () => {
    const file = riff([
      fmtChunk({
        formatTag: 0xfffe,
        channelCount: 4,
        sampleRate: 44100,
        bitsPerSample: 32,
        extensible: { validBits: 32, channelMask: 0x33, subFormat: 3 },
      }),
      chunk("fact", u32(2)),
      chunk("data", f32(0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4)),
    ]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [
      [0.1, -0.1].map(Math.fround),
      [0.2, -0.2].map(Math.fround),
      [0.3, -0.3].map(Math.fround),
      [0.4, -0.4].map(Math.fround),
    ]);
    assert.equal(decoded.format.sampleFormat, "float");
    assert.equal(decoded.format.channelMask, 0x33);
  });

  test("extensible float 64 and extensible 16-bit PCM 5.1 (each channel lands in its own array)", () => {
    const float64 = riff([
      fmtChunk({
        formatTag: 0xfffe,
        channelCount: 1,
        sampleRate: 48000,
        bitsPerSample: 64,
        extensible: { validBits: 64, channelMask: 0x4, subFormat: 3 },
      }),
      chunk("data", f64(0.1, -0.5)),
    ]);
    assert.deepEqual(channelsOf(decodeWav(float64)), [[Math.fround(0.1), -0.5]]);

    // Frame f, channel c holds 1000 * c + f, so any mix-up of channels or frames shows.
    const frames = 3;
    const interleaved = Array.from({ length: frames * 6 }, (_, i) => 1000 * (i % 6) + Math.floor(i / 6));
    const surround = riff([
      fmtChunk({
        formatTag: 0xfffe,
        channelCount: 6,
        sampleRate: 48000,
        bitsPerSample: 16,
        extensible: { validBits: 16, channelMask: 0x3f, subFormat: 1 },
      }),
      chunk("data", s16(...interleaved)),
    ]);
    const decoded = decodeWav(surround);
    assert.deepEqual(
      channelsOf(decoded),
      Array.from({ length: 6 }, (_, c) => Array.from({ length: frames }, (_, f) => (1000 * c + f) / 32768)),
    );
    assert.equal(describeFormat(decoded.format), "16-bit PCM (extensible), 6 ch, 48000 Hz");
  });

  test("plain (non-extensible) PCM with 3 channels", () => {
    const decoded = decodeWav(pcmWav(3, 22050, 16, s16(1, 2, 3, -1, -2, -3)));
    assert.deepEqual(channelsOf(decoded), [
      [1, -1].map((v) => v / 32768),
      [2, -2].map((v) => v / 32768),
      [3, -3].map((v) => v / 32768),
    ]);
  });

  test("an empty data chunk gives channels of 0 frames", () => {
    const decoded = decodeWav(pcmWav(2, 44100, 16, new Uint8Array(0)));
    assert.deepEqual(channelsOf(decoded), [[], []]);
    assert.deepEqual(decoded.warnings, []);
  });

  test("describeFormat", () => {
    const base = { formatTag: 1, sampleFormat: "pcm", channelCount: 2, sampleRate: 44100 } as const;
    assert.equal(
      describeFormat({ ...base, bitsPerSample: 16, validBitsPerSample: 16, blockAlign: 4 }),
      "16-bit PCM, 2 ch, 44100 Hz",
    );
    assert.equal(
      describeFormat({ ...base, bitsPerSample: 8, validBitsPerSample: 8, blockAlign: 2 }),
      "8-bit PCM (unsigned), 2 ch, 44100 Hz",
    );
    assert.equal(
      describeFormat({
        ...base,
        formatTag: 0xfffe,
        bitsPerSample: 24,
        validBitsPerSample: 24,
        blockAlign: 6,
      }),
      "24-bit PCM (extensible), 2 ch, 44100 Hz",
    );
    assert.equal(
      describeFormat({
        ...base,
        formatTag: 3,
        sampleFormat: "float",
        bitsPerSample: 32,
        validBitsPerSample: 32,
        blockAlign: 8,
      }),
      "32-bit float, 2 ch, 44100 Hz",
    );
  });
});

describe("decodeWav: chunk walking", () => {
  const fmt16 = fmtChunk({ formatTag: 1, channelCount: 2, sampleRate: 44100, bitsPerSample: 16 });

  test("skips JUNK, LIST, fact, cue and an odd-sized chunk with its pad byte; records every chunk", () => {
    const file = riff([
      chunk("JUNK", new Uint8Array(28)), // header at 12, payload at 20
      fmt16, // header 48, payload 56
      chunk("note", ascii("abcde")), // header 72, payload 80, 5 bytes + pad byte
      chunk("LIST", concat(ascii("INFO"), chunk("ISFT", ascii("deepsp\0")))), // header 86, payload 94, 20 bytes
      chunk("fact", u32(2)), // header 114, payload 122
      chunk("data", s16(100, -100, 200, -200)), // header 126, payload 134
      chunk("cue ", concat(u32(1), new Uint8Array(24))), // header 142, payload 150
    ]);
    assert.equal(file.length, 178);
    const decoded = decodeWav(file);
    assert.deepEqual(decoded.chunks, [
      { id: "JUNK", offset: 20, size: 28 },
      { id: "fmt ", offset: 56, size: 16 },
      { id: "note", offset: 80, size: 5 },
      { id: "LIST", offset: 94, size: 20 },
      { id: "fact", offset: 122, size: 4 },
      { id: "data", offset: 134, size: 8 },
      { id: "cue ", offset: 150, size: 28 },
    ]);
    assert.deepEqual(channelsOf(decoded), [
      [100 / 32768, 200 / 32768],
      [-100 / 32768, -200 / 32768],
    ]);
    assert.deepEqual(decoded.warnings, []);
  });

  test("data may come before fmt", () => {
    const decoded = decodeWav(riff([chunk("data", s16(1, 2, 3, 4)), chunk("LIST", ascii("INFO")), fmt16]));
    assert.deepEqual(channelsOf(decoded), [
      [1 / 32768, 3 / 32768],
      [2 / 32768, 4 / 32768],
    ]);
    assert.deepEqual(
      decoded.chunks.map((c) => c.id),
      ["data", "LIST", "fmt "],
    );
  });

  test("an odd-sized data chunk is followed by its pad byte, then more chunks", () => {
    const file = riff([
      fmtChunk({ formatTag: 1, channelCount: 1, sampleRate: 8000, bitsPerSample: 8 }),
      chunk("data", u8(0, 255, 128)), // header 36, payload 44, 3 bytes + pad
      chunk("LIST", concat(ascii("INFO"), chunk("ICMT", ascii("after data")))), // header 48, payload 56
      chunk("smpl", new Uint8Array(36)), // header 78, payload 86
    ]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [[-1, 127 / 128, 0]]);
    assert.deepEqual(decoded.chunks.slice(1), [
      { id: "data", offset: 44, size: 3 },
      { id: "LIST", offset: 56, size: 22 },
      { id: "smpl", offset: 86, size: 36 },
    ]);
    assert.deepEqual(decoded.warnings, []);
  });

  test("a second fmt or data chunk is ignored with a warning", () => {
    const other = fmtChunk({ formatTag: 1, channelCount: 1, sampleRate: 8000, bitsPerSample: 8 });
    const decoded = decodeWav(riff([fmt16, chunk("data", s16(5, 6)), other, chunk("data", u8(1, 2, 3, 4))]));
    assert.deepEqual(channelsOf(decoded), [[5 / 32768], [6 / 32768]]);
    assert.equal(decoded.warnings.length, 2);
    assert.match(decoded.warnings[0]!, /second "fmt " chunk at offset 56 ignored/);
    assert.match(decoded.warnings[1]!, /second data chunk at offset 80 ignored/);
  });
});

describe("decodeWav: leniency for real-world writers (each adds a warning)", () => {
  const fmt16 = fmtChunk({ formatTag: 1, channelCount: 2, sampleRate: 44100, bitsPerSample: 16 });

  test("data size 0xFFFFFFFF (streamed, as ffmpeg writes to a pipe): read to end of file, whole frames", () => {
    // ffmpeg also writes RIFF size 0xFFFFFFFF; one stray byte after the last whole frame.
    const file = riff(
      [
        fmt16,
        chunk("LIST", ascii("INFO")),
        chunk("data", concat(s16(1, 2, 3, 4, 5, 6), [9]), { size: 0xffffffff, pad: false }),
      ],
      {
        size: 0xffffffff,
      },
    );
    const decoded = decodeWav(file, { source: "pipe.wav" });
    assert.deepEqual(channelsOf(decoded), [[1, 3, 5].map((v) => v / 32768), [2, 4, 6].map((v) => v / 32768)]);
    assert.equal(decoded.warnings.length, 3, decoded.warnings.join("\n"));
    assert.match(
      decoded.warnings[0]!,
      /^pipe\.wav: RIFF header declares 4294967303 bytes but the file has 69/,
    );
    assert.match(
      decoded.warnings[1]!,
      /data chunk size 0xffffffff means "unknown" \(streamed\); read data to end of file/,
    );
    assert.match(
      decoded.warnings[2]!,
      /13 bytes, not a whole number of 4-byte frames \(1 byte\(s\) left over\); dropped/,
    );
    assert.deepEqual(decoded.chunks.at(-1), { id: "data", offset: 56, size: 13 });
  });

  test("data size 0x7FFFF000 (sox writing to a pipe) when it overruns the file: read to end", () => {
    const file = riff([fmt16, chunk("data", s16(7, 8), { size: 0x7ffff000 })], { size: 0x7ffff024 });
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [[7 / 32768], [8 / 32768]]);
    assert.ok(decoded.warnings.some((w) => w.includes("0x7ffff000")));
  });

  test("data size 0 with sample bytes after it (streamed): read to end of file", () => {
    const decoded = decodeWav(riff([fmt16, chunk("data", s16(-5, 5, -6, 6), { size: 0 })]));
    assert.deepEqual(channelsOf(decoded), [
      [-5 / 32768, -6 / 32768],
      [5 / 32768, 6 / 32768],
    ]);
    assert.equal(decoded.warnings.length, 1);
    assert.match(decoded.warnings[0]!, /^WAV: data chunk declares 0 bytes but 8 follow/);
  });

  test("data size 0 followed by a real chunk is a genuinely empty data chunk (no warning)", () => {
    const decoded = decodeWav(
      riff([fmt16, chunk("data", new Uint8Array(0)), chunk("LIST", ascii("INFOtext"))]),
    );
    assert.deepEqual(channelsOf(decoded), [[], []]);
    assert.deepEqual(
      decoded.chunks.map((c) => c.id),
      ["fmt ", "data", "LIST"],
    );
    assert.deepEqual(decoded.warnings, []);
  });

  test("fewer than 8 trailing bytes after the last chunk are ignored", () => {
    const decoded = decodeWav(riff([fmt16, chunk("data", s16(1, 2)), u8(0, 0, 0)]));
    assert.deepEqual(channelsOf(decoded), [[1 / 32768], [2 / 32768]]);
    assert.deepEqual(decoded.warnings, [
      "WAV: ignored 3 trailing byte(s) at offset 48 (too short for a chunk header)",
    ]);
  });

  test("a truncated chunk after fmt and data is ignored", () => {
    const file = riff([fmt16, chunk("data", s16(1, 2)), chunk("LIST", ascii("INFOab"), { size: 100 })]);
    const decoded = decodeWav(file);
    assert.deepEqual(channelsOf(decoded), [[1 / 32768], [2 / 32768]]);
    assert.deepEqual(decoded.warnings, [
      "WAV: LIST chunk declares 100 bytes at offset 56 but only 6 remain; ignored (fmt and data already read)",
    ]);
    assert.deepEqual(decoded.chunks.at(-1), { id: "LIST", offset: 56, size: 6 });
  });

  test("allowTruncated: a cut data chunk gives the whole frames present", () => {
    const samples = s16(...Array.from({ length: 2500 }, (_, i) => i - 1250));
    const file = concat(
      riff([fmt16, chunk("data", samples, { size: 1000000 })], { size: 1000036 }),
      [0x11], // half a sample: dropped
    );
    const decoded = decodeWav(file, { allowTruncated: true });
    assert.equal(decoded.audio.channels[0]!.length, 1250);
    assert.equal(decoded.audio.channels[1]![1249], 1249 / 32768);
    assert.ok(
      decoded.warnings.some((w) =>
        w.includes("data chunk declares 1000000 bytes at offset 44 but only 5001 remain"),
      ),
    );
    assert.ok(decoded.warnings.some((w) => w.includes("dropped the partial frame")));
  });

  test("a RIFF size that disagrees with the file length is only a warning", () => {
    const decoded = decodeWav(riff([fmt16, chunk("data", s16(1, 2))], { size: 0 }));
    assert.deepEqual(channelsOf(decoded), [[1 / 32768], [2 / 32768]]);
    assert.deepEqual(decoded.warnings, [
      "WAV: RIFF header declares 8 bytes but the file has 48; chunks read up to the end of file",
    ]);
  });

  test("extensible wValidBitsPerSample 0 is taken as the container size", () => {
    const fmt = fmtChunk({
      formatTag: 0xfffe,
      channelCount: 1,
      sampleRate: 8000,
      bitsPerSample: 16,
      extensible: { validBits: 0, channelMask: 4, subFormat: 1 },
    });
    const decoded = decodeWav(riff([fmt, chunk("data", s16(-16384))]));
    assert.deepEqual(channelsOf(decoded), [[-0.5]]);
    assert.equal(decoded.format.validBitsPerSample, 16);
    assert.deepEqual(decoded.warnings, [
      "WAV: extensible wValidBitsPerSample is 0; taken as 16 (the container size)",
    ]);
  });

  test("a byte-rate field that disagrees with rate x blockAlign is only a warning", () => {
    const fmt = fmtChunk({
      formatTag: 1,
      channelCount: 1,
      sampleRate: 8000,
      bitsPerSample: 16,
      byteRate: 1234,
    });
    const decoded = decodeWav(riff([fmt, chunk("data", s16(3))]));
    assert.deepEqual(channelsOf(decoded), [[3 / 32768]]);
    assert.deepEqual(decoded.warnings, [
      "WAV: byte rate field is 1234, expected 16000 (sampleRate x blockAlign); ignored",
    ]);
  });
});

describe("decodeWav: errors", () => {
  const fmt16 = fmtChunk({ formatTag: 1, channelCount: 2, sampleRate: 44100, bitsPerSample: 16 });

  test("not RIFF/WAVE: says what the first bytes were", () => {
    assertWavError(() => decodeWav(new Uint8Array(0)), "wav/not-riff", "WAV: not a WAV file: it is empty");
    assertWavError(
      () => decodeWav(concat(ascii("OggS"), new Uint8Array(20))),
      "wav/not-riff",
      'expected "RIFF" <size> "WAVE"',
      '"OggS........" (4f 67 67 53 00',
      "looks like Ogg",
    );
    assertWavError(() => decodeWav(ascii("ab")), "wav/not-riff", 'first 2 bytes: "ab" (61 62)');
    assertWavError(
      () => decodeWav(riff([fmt16, chunk("data", s16(0, 0))], { form: "AVI " })),
      "wav/not-riff",
      'RIFF file of form "AVI ", not "WAVE"',
    );
    assertWavError(
      () => decodeWav(riff([fmt16], { magic: "RIFX" })),
      "wav/not-riff",
      "RIFX (big-endian RIFF) is not supported",
    );
  });

  test("RF64 is named as unsupported", () => {
    const file = riff(
      [chunk("ds64", new Uint8Array(28)), fmt16, chunk("data", s16(0, 0), { size: 0xffffffff })],
      {
        magic: "RF64",
        size: 0xffffffff,
      },
    );
    assertWavError(
      () => decodeWav(file),
      "wav/not-riff",
      "RF64 (64-bit WAV for files over 4 GiB) is not supported",
    );
  });

  test("a file cut inside the RIFF header is truncated", () => {
    assertWavError(
      () => decodeWav(ascii("RIFF\x10\0")),
      "wav/truncated",
      "file is 6 bytes, shorter than the 12-byte",
    );
  });

  test("missing fmt / missing data list the chunks that were found", () => {
    assertWavError(
      () => decodeWav(riff([chunk("data", s16(0, 0))])),
      "wav/missing-fmt",
      'no "fmt " chunk (chunks found: data)',
    );
    assertWavError(
      () => decodeWav(riff([fmt16, chunk("LIST", ascii("INFO"))])),
      "wav/missing-data",
      'no data chunk (chunks found: "fmt ", LIST)',
    );
    assertWavError(() => decodeWav(riff([])), "wav/missing-fmt", "(no chunks)");
  });

  test("truncated chunks give byte counts and offsets", () => {
    const samples = new Uint8Array(5000);
    assertWavError(
      () => decodeWav(riff([fmt16, chunk("data", samples, { size: 1000000 })])),
      "wav/truncated",
      "WAV: data chunk declares 1000000 bytes at offset 44 but only 5000 remain",
      "allowTruncated",
    );
    assertWavError(
      () => decodeWav(riff([chunk("fmt ", new Uint8Array(16), { size: 40 })])),
      "wav/truncated",
      '"fmt " chunk declares 40 bytes at offset 20 but only 16 remain',
    );
    // A cut chunk before fmt and data were both read is an error, not a warning.
    assertWavError(
      () => decodeWav(riff([fmt16, chunk("LIST", ascii("INFO"), { size: 64 })])),
      "wav/truncated",
      "LIST chunk declares 64 bytes at offset 44 but only 4 remain",
    );
  });

  test("unsupported format codes are named, with the supported list", () => {
    const adpcm = riff([
      fmtChunk({ formatTag: 2, channelCount: 1, sampleRate: 8000, bitsPerSample: 4, blockAlign: 256 }),
      chunk("data", new Uint8Array(256)),
    ]);
    assertWavError(
      () => decodeWav(adpcm),
      "wav/unsupported-format",
      "format 0x0002 (Microsoft ADPCM) is not supported",
      "supported: 1 (PCM 8/16/24/32-bit), 3 (IEEE float 32/64-bit), 0xFFFE (extensible",
    );
    const mp3 = riff([
      fmtChunk({ formatTag: 0x55, channelCount: 2, sampleRate: 44100, bitsPerSample: 0, blockAlign: 1 }),
      chunk("data", u8(1)),
    ]);
    assertWavError(() => decodeWav(mp3), "wav/unsupported-format", "0x0055 (MPEG Layer 3)");
    const unknown = riff([
      fmtChunk({ formatTag: 0x1234, channelCount: 1, sampleRate: 8000, bitsPerSample: 8 }),
      chunk("data", u8(1)),
    ]);
    assertWavError(() => decodeWav(unknown), "wav/unsupported-format", "0x1234 (unknown)");
  });

  test("extensible sub-formats other than PCM/float print the GUID", () => {
    const extensible = (subFormat: number | Uint8Array) =>
      riff([
        fmtChunk({
          formatTag: 0xfffe,
          channelCount: 1,
          sampleRate: 8000,
          bitsPerSample: 8,
          extensible: { validBits: 8, channelMask: 4, subFormat },
        }),
        chunk("data", u8(1, 2)),
      ]);
    assertWavError(
      () => decodeWav(extensible(6)),
      "wav/unsupported-format",
      "extensible sub-format 0x0006 (A-law) (GUID 00000006-0000-0010-8000-00AA00389B71)",
    );
    // Ambisonic B-format PCM: {00000001-0721-11D3-8644-C8C1CA000000}, a GUID without the standard tail.
    const bFormat = concat(u32(1), u16(0x0721, 0x11d3), [0x86, 0x44, 0xc8, 0xc1, 0xca, 0x00, 0x00, 0x00]);
    assertWavError(
      () => decodeWav(extensible(bFormat)),
      "wav/unsupported-format",
      "sub-format GUID 00000001-0721-11D3-8644-C8C1CA000000 is not PCM or float",
    );
    assert.deepEqual(Array.from(subFormatGuid(1).subarray(0, 4)), [1, 0, 0, 0]);
  });

  test("unsupported sample sizes", () => {
    const pcm12 = riff([
      fmtChunk({ formatTag: 1, channelCount: 1, sampleRate: 8000, bitsPerSample: 12, blockAlign: 2 }),
      chunk("data", u8(0, 0)),
    ]);
    assertWavError(
      () => decodeWav(pcm12),
      "wav/unsupported-format",
      "12-bit pcm samples are not supported (bitsPerSample 8, 16, 24 or 32)",
    );
    const float16 = riff([
      fmtChunk({ formatTag: 3, channelCount: 1, sampleRate: 8000, bitsPerSample: 16 }),
      chunk("data", u8(0, 0)),
    ]);
    assertWavError(
      () => decodeWav(float16),
      "wav/unsupported-format",
      "16-bit float samples are not supported (bitsPerSample 32 or 64)",
    );
  });

  test("invalid headers: zero channels or rate, bad blockAlign, short fmt, valid bits over the container", () => {
    const make = (fields: Partial<Parameters<typeof fmtChunk>[0]>, data = s16(0, 0)) =>
      riff([
        fmtChunk({ formatTag: 1, channelCount: 2, sampleRate: 44100, bitsPerSample: 16, ...fields }),
        chunk("data", data),
      ]);
    assertWavError(
      () => decodeWav(make({ channelCount: 0, blockAlign: 4 })),
      "wav/invalid-header",
      '"fmt " chunk says 0 channels',
    );
    assertWavError(() => decodeWav(make({ sampleRate: 0 })), "wav/invalid-header", "sample rate 0 Hz");
    assertWavError(
      () => decodeWav(make({ blockAlign: 3 })),
      "wav/invalid-header",
      "blockAlign is 3 but 2 channel(s) x 16 bits need 4 bytes per frame",
    );
    assertWavError(
      () => decodeWav(riff([chunk("fmt ", new Uint8Array(14)), chunk("data", u8(0, 0))])),
      "wav/invalid-header",
      '"fmt " chunk is 14 bytes; it needs at least 16',
    );
    assertWavError(
      () => decodeWav(make({ formatTag: 0xfffe, cbSize: 0 })),
      "wav/invalid-header",
      'extensible "fmt " chunk is 18 bytes; it needs 40',
    );
    const tooManyValidBits = make({
      formatTag: 0xfffe,
      bitsPerSample: 24,
      extensible: { validBits: 32, channelMask: 3, subFormat: 1 },
    });
    assertWavError(
      () => decodeWav(tooManyValidBits),
      "wav/invalid-header",
      "wValidBitsPerSample 32 is larger than the 24-bit container",
    );
  });

  test("a data size that is not a whole number of frames", () => {
    assertWavError(
      () => decodeWav(riff([fmt16, chunk("data", new Uint8Array(1001))])),
      "wav/invalid-header",
      "data chunk has 1001 bytes, not a whole number of 4-byte frames (1 byte(s) left over)",
    );
  });

  test("non-finite float samples in a file are rejected, naming channel and sample", () => {
    const file = riff([
      fmtChunk({ formatTag: 3, channelCount: 2, sampleRate: 8000, bitsPerSample: 32 }),
      chunk("data", f32(0, 0, 0, Number.NaN)),
    ]);
    assertWavError(() => decodeWav(file), "wav/invalid-audio", "float sample 1 of channel 1 is NaN");
  });

  test("messages are prefixed with the source, or 'WAV: '", () => {
    const missing = riff([fmt16]);
    const named = assertWavError(() => decodeWav(missing, { source: "takes/di.wav" }), "wav/missing-data");
    assert.ok(named.message.startsWith("takes/di.wav: no data chunk"), named.message);
    const plain = assertWavError(() => decodeWav(missing), "wav/missing-data");
    assert.ok(plain.message.startsWith("WAV: no data chunk"), plain.message);
  });

  test("bad arguments: not bytes, unknown options", () => {
    assertWavError(
      () => decodeWav(new ArrayBuffer(8) as unknown as Uint8Array),
      "wav/invalid-input",
      "got ArrayBuffer",
    );
    assert.throws(
      () => decodeWav(pcmWav(1, 8000, 8, u8(1)), { strict: true } as never),
      (error: unknown) => error instanceof OptionError && /unknown option "strict"/.test(error.message),
    );
  });
});

describe("encodeWav", () => {
  test("16-bit stereo: the plain 44-byte header, byte for byte", () => {
    const audio = audioOf(44100, [0, 0.5, -1], [1 - 2 ** -15, -0.25, 2 ** -15]);
    const expected = pcmWav(2, 44100, 16, s16(0, 32767, 16384, -8192, -32768, 1));
    assert.deepEqual(encodeWav(audio, { encoding: "pcm16" }), expected);
  });

  test("24-bit mono with an odd number of frames: pad byte after data, counted in the RIFF size", () => {
    const audio = audioOf(48000, [0.5, -1, 2 ** -23]);
    const bytes = encodeWav(audio, { encoding: "pcm24" });
    assert.deepEqual(bytes, pcmWav(1, 48000, 24, s24(0x400000, -0x800000, 1)));
    assert.equal(bytes.length, 44 + 9 + 1);
    assert.equal(new DataView(bytes.buffer).getUint32(4, true), bytes.length - 8);
  });

  test("float32 is the default: 18-byte fmt (cbSize 0), a fact chunk, samples bit-exact", () => {
    const audio = audioOf(96000, [0.1, -3, 1e-38]);
    const expected = riff([
      fmtChunk({ formatTag: 3, channelCount: 1, sampleRate: 96000, bitsPerSample: 32, cbSize: 0 }),
      chunk("fact", u32(3)),
      chunk("data", f32(0.1, -3, 1e-38)),
    ]);
    assert.deepEqual(encodeWav(audio), expected);
  });

  test("PCM with more than 2 channels: WAVE_FORMAT_EXTENSIBLE with the usual speaker masks", () => {
    const three = audioOf(48000, [0.5], [-0.5], [0.25]);
    const expected = riff([
      fmtChunk({
        formatTag: 0xfffe,
        channelCount: 3,
        sampleRate: 48000,
        bitsPerSample: 16,
        extensible: { validBits: 16, channelMask: 0x7, subFormat: 1 },
      }),
      chunk("data", s16(16384, -16384, 8192)),
    ]);
    assert.deepEqual(encodeWav(three, { encoding: "pcm16" }), expected);

    const masks: [number, number][] = [
      [3, 0x7],
      [4, 0x33],
      [5, 0x37],
      [6, 0x3f],
      [7, 0],
      [8, 0x63f],
      [12, 0],
    ];
    for (const [count, mask] of masks) {
      const audio: Audio = {
        sampleRate: 44100,
        channels: Array.from({ length: count }, (_, c) => Float32Array.of(c / 16)),
      };
      for (const encoding of ["pcm16", "pcm24"] as const) {
        const decoded = decodeWav(encodeWav(audio, { encoding }));
        assert.equal(decoded.format.formatTag, 0xfffe);
        assert.equal(decoded.format.channelMask, mask, `${count} channels`);
        assert.deepEqual(
          channelsOf(decoded),
          audio.channels.map((channel) => Array.from(channel)),
        );
        assert.deepEqual(decoded.warnings, []);
      }
    }
  });

  test("float32 with more than 2 channels stays plain IEEE float (sox warns on extensible float)", () => {
    const audio = audioOf(48000, [0.5, 0.1], [-0.5, 0.2], [0.25, 0.3], [1, 0.4], [-1, 0.5], [2, 0.6]);
    const expected = riff([
      fmtChunk({ formatTag: 3, channelCount: 6, sampleRate: 48000, bitsPerSample: 32, cbSize: 0 }),
      chunk("fact", u32(2)),
      chunk("data", f32(0.5, -0.5, 0.25, 1, -1, 2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)),
    ]);
    assert.deepEqual(encodeWav(audio), expected);
  });

  test("round trip float32: exact, including values beyond +-1, tiny values and -0", () => {
    const left = noise(1, 4000, 4);
    left.set([0, -0, 1e-45, -1e-40, 3.4e38, 1, -1], 0);
    const audio: Audio = { sampleRate: 44100, channels: [left, noise(2, 4000, 1)] };
    const decoded = decodeWav(encodeWav(audio, { encoding: "float32" }));
    assert.deepEqual(decoded.audio.channels, audio.channels);
    assert.ok(Object.is(decoded.audio.channels[0]![1], -0));
  });

  for (const [encoding, bits] of [
    ["pcm16", 16],
    ["pcm24", 24],
  ] as const) {
    test(`round trip ${encoding}: within half an LSB, exact on the grid`, () => {
      const lsb = 2 ** -(bits - 1);
      const x = noise(bits, 20000, 1);
      const decoded = decodeWav(encodeWav({ sampleRate: 48000, channels: [x] }, { encoding }));
      assertSameSamples(decoded.audio.channels[0]!, x, lsb / 2, `${encoding} off-grid`);
      // Decoded values are on the grid, so a second round trip changes nothing.
      const grid = onGrid(x, bits);
      assertSameSamples(decoded.audio.channels[0]!, grid, 0, `${encoding} rounding`);
      const again = decodeWav(encodeWav(decoded.audio, { encoding }));
      assertSameSamples(again.audio.channels[0]!, grid, 0, `${encoding} on-grid`);
    });
  }

  test("PCM clamps to the integer range and rounds ties up (deterministic)", () => {
    const lsb = 2 ** -15;
    const audio = audioOf(8000, [1, 1.5, -1, -3, 0.5 * lsb, -0.5 * lsb, 1.5 * lsb, -1.5 * lsb]);
    const bytes = encodeWav(audio, { encoding: "pcm16" });
    assert.deepEqual(bytes.subarray(44), s16(32767, 32767, -32768, -32768, 1, 0, 2, -1));
    assert.deepEqual(encodeWav(audio, { encoding: "pcm16" }), bytes);
    const bytes24 = encodeWav(audioOf(8000, [1, -1.01, 0.5 * 2 ** -23]), { encoding: "pcm24" });
    assert.deepEqual(bytes24.subarray(44, 53), s24(0x7fffff, -0x800000, 1));
  });

  test("non-finite samples are rejected, naming channel and sample index", () => {
    const right = new Float32Array(10);
    right[5] = Number.NaN;
    const audio: Audio = { sampleRate: 44100, channels: [new Float32Array(10), right] };
    for (const encoding of ["pcm16", "pcm24", "float32"] as const) {
      assertWavError(
        () => encodeWav(audio, { encoding }),
        "wav/invalid-audio",
        "sample 5 of channel 1 is NaN",
      );
    }
    assertWavError(
      () => encodeWav(audioOf(8000, [0, Number.NEGATIVE_INFINITY])),
      "wav/invalid-audio",
      "sample 1 of channel 0 is -Infinity",
    );
  });

  test("audio that cannot be written is rejected", () => {
    assertWavError(() => encodeWav(audioOf(44100.5, [0])), "wav/invalid-audio", "got 44100.5");
    assertWavError(() => encodeWav(audioOf(0, [0])), "wav/invalid-audio", "sample rate");
    assertWavError(() => encodeWav({ sampleRate: 8000, channels: [] }), "wav/invalid-audio", "no channels");
    assertWavError(
      () => encodeWav(audioOf(8000, [0, 0], [0])),
      "wav/invalid-audio",
      "channel 1 has 1 samples, channel 0 has 2",
    );
    const wrongType = { sampleRate: 8000, channels: [new Float64Array(2)] } as unknown as Audio;
    assertWavError(
      () => encodeWav(wrongType),
      "wav/invalid-audio",
      "channel 0 is Float64Array, not a Float32Array",
    );
    assert.throws(
      () => encodeWav(audioOf(8000, [0]), { encoding: "pcm8" as WavEncoding }),
      (error: unknown) =>
        error instanceof OptionError && error.message.startsWith("encodeWav options: encoding"),
    );
  });
});

describe("interop with sox and ffmpeg", { skip: NO_ENGINES }, () => {
  /** Decodes with us, sox and ffmpeg; all three must agree (sox within its 2^-24 step for 32-bit files). */
  function assertMatchesEngines(path: string, label: string): DecodedWav {
    const decoded = decodeWav(readFileSync(path), { source: path });
    const ours = interleave(decoded.audio);
    const ff = ffmpegFloats(path);
    assertSameSamples(ours, ff.samples, 0, `${label} vs ffmpeg`);
    const sox = soxFloats(path);
    const exactInSox = decoded.format.bitsPerSample <= 24;
    assertSameSamples(ours, sox.samples, exactInSox ? 0 : SOX_FLOAT_STEP, `${label} vs sox`);
    return decoded;
  }

  test("files written by sox decode as sox and ffmpeg read them", () => {
    const cases: [string, string[], string][] = [
      ["u8", ["-c", "2", "-b", "8", "-e", "unsigned-integer"], "8-bit PCM (unsigned), 2 ch, 44100 Hz"],
      ["s16", ["-c", "2", "-b", "16"], "16-bit PCM, 2 ch, 44100 Hz"],
      ["s24", ["-c", "2", "-b", "24"], "24-bit PCM (extensible), 2 ch, 44100 Hz"],
      ["s32", ["-c", "2", "-b", "32", "-e", "signed-integer"], "32-bit PCM (extensible), 2 ch, 44100 Hz"],
      ["f32", ["-c", "2", "-b", "32", "-e", "floating-point"], "32-bit float, 2 ch, 44100 Hz"],
      ["f64", ["-c", "1", "-b", "64", "-e", "floating-point"], "64-bit float, 1 ch, 44100 Hz"],
      ["s24x3", ["-c", "3", "-b", "24"], "24-bit PCM (extensible), 3 ch, 44100 Hz"],
    ];
    for (const [name, format, description] of cases) {
      const path = tempPath(`sox-${name}.wav`);
      // A loud sine plus quiet noise, so every bit of the samples is exercised. -R: repeatable dither.
      run("sox", [
        "-R",
        "-n",
        "-r",
        "44100",
        ...format,
        path,
        "synth",
        "0.2",
        "sine",
        "440",
        "whitenoise",
        "gain",
        "-30",
      ]);
      const decoded = assertMatchesEngines(path, `sox ${name}`);
      assert.equal(describeFormat(decoded.format), description);
      assert.deepEqual(decoded.warnings, [], `sox ${name}`);
    }
  });

  test("files written by ffmpeg (-rf64 never; float and multichannel are EXTENSIBLE) decode as ffmpeg reads them", () => {
    // A full-scale sine and a very quiet one: the quiet channel checks the low bits.
    const source = ["-f", "lavfi", "-i", "aevalsrc=0.9*sin(2*PI*440*t)|1e-3*sin(2*PI*1000*t):s=48000:d=0.2"];
    const cases: [string, string[], string][] = [
      ["pcm_u8", [], "8-bit PCM (unsigned), 2 ch, 48000 Hz"],
      ["pcm_s16le", [], "16-bit PCM, 2 ch, 48000 Hz"],
      ["pcm_s24le", [], "24-bit PCM (extensible), 2 ch, 48000 Hz"],
      ["pcm_s32le", [], "32-bit PCM (extensible), 2 ch, 48000 Hz"],
      ["pcm_f32le", [], "32-bit float (extensible), 2 ch, 48000 Hz"],
      ["pcm_f64le", [], "64-bit float (extensible), 2 ch, 48000 Hz"],
      ["pcm_s24le", ["-ac", "6"], "24-bit PCM (extensible), 6 ch, 48000 Hz"],
    ];
    for (const [codec, extra, description] of cases) {
      const path = tempPath(`ffmpeg-${codec}.wav`);
      run("ffmpeg", [
        "-nostdin",
        "-v",
        "error",
        ...source,
        ...extra,
        "-c:a",
        codec,
        "-rf64",
        "never",
        "-y",
        path,
      ]);
      const decoded = assertMatchesEngines(path, `ffmpeg ${codec} ${extra.join(" ")}`);
      assert.equal(describeFormat(decoded.format), description);
      assert.deepEqual(decoded.warnings, []);
      assert.ok(
        decoded.chunks.some((c) => c.id === "LIST"),
        "ffmpeg writes a LIST/INFO chunk before data",
      );
    }
  });

  test("streamed output (ffmpeg and sox writing to a pipe) decodes with a warning", () => {
    const ff = run("ffmpeg", [
      "-nostdin",
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=0.1",
      "-c:a",
      "pcm_s16le",
      "-f",
      "wav",
      "-",
    ]);
    const fromFfmpeg = decodeWav(ff.stdout);
    assert.ok(
      fromFfmpeg.warnings.some((w) => w.includes("0xffffffff")),
      fromFfmpeg.warnings.join("\n"),
    );
    assert.equal(fromFfmpeg.audio.channels[0]!.length, 4410);

    const sox = run("sox", [
      "-R",
      "-n",
      "-r",
      "8000",
      "-b",
      "16",
      "-t",
      "wav",
      "-",
      "synth",
      "0.1",
      "sine",
      "440",
    ]);
    const fromSox = decodeWav(sox.stdout);
    assert.ok(
      fromSox.warnings.some((w) => w.includes("0x7ffff000")),
      fromSox.warnings.join("\n"),
    );
    const path = tempPath("sox-pipe.wav");
    writeFileSync(path, sox.stdout);
    assertSameSamples(interleave(fromSox.audio), ffmpegFloats(path).samples, 0, "sox pipe vs ffmpeg");
  });

  test("our files are read by sox and ffmpeg without warnings and give the same samples", () => {
    for (const encoding of ["pcm16", "pcm24", "float32"] as const) {
      for (const channelCount of [1, 2, 3, 6]) {
        const bits = encoding === "pcm16" ? 16 : 24;
        // Odd frame count: mono pcm24 then needs a pad byte. Values on the grid so PCM compares exactly.
        const channels = Array.from({ length: channelCount }, (_, c) => {
          const x = noise(100 + c, 2205, c === 0 ? 1 : 0.001);
          return encoding === "float32" ? x : onGrid(x, bits);
        });
        const audio: Audio = { sampleRate: 44100, channels };
        const label = `${encoding} ${channelCount} ch`;
        const path = tempPath(`ours-${encoding}-${channelCount}.wav`);
        writeFileSync(path, encodeWav(audio, { encoding }));

        const info = run("sox", ["--i", path]);
        assert.equal(info.stderr, "", `${label}: sox --i`);
        const infoText = new TextDecoder().decode(info.stdout);
        assert.match(infoText, new RegExp(`Channels\\s+: ${channelCount}\\n`), label);
        assert.match(infoText, /Sample Rate\s+: 44100\n/, label);
        assert.match(infoText, /= 2205 samples/, label);

        const expected = interleave(audio);
        const sox = soxFloats(path);
        assert.equal(sox.stderr, "", `${label}: sox stderr`);
        assertSameSamples(
          sox.samples,
          expected,
          encoding === "float32" ? SOX_FLOAT_STEP : 0,
          `${label} read by sox`,
        );
        const ff = ffmpegFloats(path);
        assert.equal(ff.stderr, "", `${label}: ffmpeg stderr`);
        assertSameSamples(ff.samples, expected, 0, `${label} read by ffmpeg`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real recordings under ../shared/data (beside the repository; not part of it)

const SHARED_DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));

function wavFilesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((name) => name.toLowerCase().endsWith(".wav"))
    .sort()
    .map((name) => join(folder, name));
}

const realFiles = existsSync(SHARED_DATA) ? wavFilesUnder(SHARED_DATA) : [];
const NO_REAL_DATA =
  realFiles.length > 0
    ? false
    : `no .wav files under ${SHARED_DATA} (data beside the repository): skipping real-file tests`;

describe("real files under ../shared/data", { skip: NO_REAL_DATA }, () => {
  for (const path of realFiles) {
    const name = relative(SHARED_DATA, path);
    test(`${name}: decodes as sox (and ffmpeg) do, and round-trips bit-exactly`, () => {
      const bytes = readFileSync(path);
      const decoded = decodeWav(bytes, { source: name });
      assert.deepEqual(decoded.warnings, []);
      const ours = interleave(decoded.audio);
      if (HAVE_SOX) {
        const exactInSox = decoded.format.sampleFormat === "pcm" && decoded.format.bitsPerSample <= 24;
        assertSameSamples(ours, soxFloats(path).samples, exactInSox ? 0 : SOX_FLOAT_STEP, `${name} vs sox`);
      }
      if (HAVE_FFMPEG) assertSameSamples(ours, ffmpegFloats(path).samples, 0, `${name} vs ffmpeg`);

      // Re-encoding at the file's own depth must reproduce its data chunk byte for byte.
      const { format } = decoded;
      const encoding: WavEncoding | undefined =
        format.sampleFormat === "float" && format.bitsPerSample === 32
          ? "float32"
          : format.sampleFormat === "pcm" && format.bitsPerSample === 16
            ? "pcm16"
            : format.sampleFormat === "pcm" && format.bitsPerSample === 24
              ? "pcm24"
              : undefined;
      assert.ok(
        encoding !== undefined,
        `${name}: ${describeFormat(format)} has no lossless encoding to round-trip`,
      );
      const encoded = encodeWav(decoded.audio, { encoding });
      const original = decoded.chunks.find((c) => c.id === "data")!;
      const copy = decodeWav(encoded).chunks.find((c) => c.id === "data")!;
      const originalBytes = bytes.subarray(original.offset, original.offset + original.size);
      const encodedBytes = encoded.subarray(copy.offset, copy.offset + copy.size);
      assert.ok(Buffer.from(originalBytes).equals(encodedBytes), `${name}: ${encoding} data bytes differ`);
    });
  }

  test("deepsp-paper/lowpass/post/beethoven.wav: the chunks after data are walked and recorded", {
    skip: !realFiles.some((p) => p.endsWith("post/beethoven.wav")),
  }, () => {
    const decoded = decodeWav(readFileSync(join(SHARED_DATA, "deepsp-paper/lowpass/post/beethoven.wav")));
    assert.deepEqual(
      decoded.chunks.map((c) => c.id),
      ["fmt ", "data", "smpl", "inst", "acid", "strc", "cue ", "LIST", "LIST"],
    );
    // inst is 7 bytes: its pad byte must be skipped for acid to be found.
    assert.deepEqual(decoded.chunks[3], { id: "inst", offset: 3822112, size: 7 });
    assert.equal(decoded.audio.channels[0]!.length, 955504);
    assert.equal(describeFormat(decoded.format), "16-bit PCM, 2 ch, 44100 Hz");
  });

  test("nam-reference/input.wav equals input.f32 exactly", {
    skip: !existsSync(join(SHARED_DATA, "nam-reference/input.f32")),
  }, () => {
    const decoded = decodeWav(readFileSync(join(SHARED_DATA, "nam-reference/input.wav")));
    const reference = floats(readFileSync(join(SHARED_DATA, "nam-reference/input.f32")));
    assertSameSamples(decoded.audio.channels[0]!, reference, 0, "input.wav vs input.f32");
    assert.equal(decoded.audio.sampleRate, 48000);
  });
});
