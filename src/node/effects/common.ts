import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Audio, frameCount, makeAudio } from "../../audio/audio.ts";
import { decodeWav, encodeWav } from "../../audio/wav.ts";
import { DeepspError } from "../../core/errors.ts";
import { findProgram, type ToolRequirement, withTempDir } from "../tools.ts";

/**
 * What the external effect engines (sox, lv2apply, ffmpeg) share: audio goes to the tool as a float32 WAV in
 * a temporary folder (withTempDir: always removed), the tool writes a WAV next to it, and the result comes
 * back as Audio cut or zero-padded to the input's length.
 */

/**
 * undefined when every program is on PATH, else one line naming what is missing and the Debian packages:
 * "sox is not installed (apt-get install -y sox)".
 */
export async function missingProgramsReason(
  requires: readonly ToolRequirement[],
): Promise<string | undefined> {
  const missing: ToolRequirement[] = [];
  for (const requirement of requires) {
    if ((await findProgram(requirement)) === undefined) missing.push(requirement);
  }
  if (missing.length === 0) return undefined;
  const names = missing.map((m) => m.program).join(", ");
  const packages = [...new Set(missing.flatMap((m) => m.debianPackage.split(" ")))].join(" ");
  return `${names} ${missing.length === 1 ? "is" : "are"} not installed (apt-get install -y ${packages})`;
}

/** Writes `audio` as a float32 WAV (bit-exact: the tools read the very samples we hold). */
export async function writeAudioFile(path: string, audio: Audio): Promise<void> {
  await writeFile(path, encodeWav(audio, { encoding: "float32" }));
}

/** Reads a WAV a tool wrote; `tool` names it in errors ("sox output"). */
export async function readAudioFile(path: string, tool: string): Promise<Audio> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new DeepspError("effects/tool-output", `${tool} wrote no output file (${String(error)})`, {
      cause: error,
    });
  }
  // A tool writing to a file it cannot seek back in leaves streamed sizes: accept a cut last frame.
  return decodeWav(bytes, { source: tool, allowTruncated: true }).audio;
}

/**
 * Runs `body` with a temporary folder holding `input.wav` (the audio, float32) and returns the audio of the
 * WAV that `body` wrote to the output path it was given. The folder is removed afterwards, also on errors.
 */
export async function roundTripThroughFiles(
  audio: Audio,
  tool: string,
  body: (paths: { input: string; output: string; dir: string }) => Promise<void>,
): Promise<Audio> {
  return withTempDir(async (dir) => {
    const input = join(dir, "input.wav");
    const output = join(dir, "output.wav");
    await writeAudioFile(input, audio);
    await body({ input, output, dir });
    return readAudioFile(output, `${tool} output`);
  });
}

/** The first `frames` samples of `channel`, zero-padded when it is shorter (a new array; never a view). */
export function fitLength(channel: Float32Array, frames: number): Float32Array {
  const out = new Float32Array(frames);
  out.set(channel.length > frames ? channel.subarray(0, frames) : channel);
  return out;
}

/**
 * The tool's output made to match the input: same rate (checked), same length (tails cut, short output
 * zero-padded) and same channel count: a mono input whose tool gave several channels (sox reverb's stereo
 * depth, a mono-in / stereo-out plugin) gets their average; a single output channel for a multi-channel input
 * is a tool error.
 */
export function matchInput(output: Audio, input: Audio, tool: string): Audio {
  if (output.sampleRate !== input.sampleRate) {
    throw new DeepspError(
      "effects/tool-output",
      `${tool} wrote ${output.sampleRate} Hz audio for a ${input.sampleRate} Hz input`,
    );
  }
  const frames = frameCount(input);
  const wanted = input.channels.length;
  let channels = output.channels;
  if (channels.length !== wanted) {
    if (wanted !== 1) {
      throw new DeepspError(
        "effects/tool-output",
        `${tool} wrote ${channels.length} channel(s) for a ${wanted}-channel input`,
      );
    }
    channels = [averageChannels(channels)];
  }
  return makeAudio(
    input.sampleRate,
    channels.map((channel) => fitLength(channel, frames)),
  );
}

/** Sample-wise mean of the channels, computed in float64 (a new array). */
export function averageChannels(channels: readonly Float32Array[]): Float32Array {
  const length = channels[0]?.length ?? 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let sum = 0;
    for (const channel of channels) sum += channel[i]!;
    out[i] = sum / channels.length;
  }
  return out;
}

/** A copy of the audio (for the zero-length case, where no tool is run). */
export function copyAudio(audio: Audio): Audio {
  return makeAudio(
    audio.sampleRate,
    audio.channels.map((channel) => channel.slice()),
  );
}

/** Formats a number for a tool's command line: plain decimal, no exponent, no trailing zeros. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  if (Number.isInteger(value)) return String(value);
  const fixed = value.toFixed(9).replace(/0+$/, "").replace(/\.$/, "");
  return fixed === "-0" ? "0" : fixed;
}
