import { z } from "zod";
import { type Audio, makeAudio, mixToMono, peak } from "../../audio/audio.ts";
import { DeepspError, OptionError } from "../../core/errors.ts";
import { parseOptions } from "../../core/options.ts";
import { findProgram, type ToolRequirement } from "../tools.ts";

/**
 * Options and finishing steps shared by the external material kinds, so each kind only has to produce
 * some audio and these make it the requested rate, length, channel count and peak level.
 */

/**
 * The options every external kind takes, with the names, ranges and defaults of the built-in generators'
 * (src/signals/common.ts; their `stereo` mode is not offered: here the source decides what stereo is).
 */
export const commonShape = {
  sampleRate: z.number().int().min(8000).max(384000).default(48000).describe("output sample rate in Hz"),
  seconds: z.number().positive().max(3600).default(10).describe("output length in seconds"),
  amplitude: z
    .number()
    .positive()
    .max(1)
    .default(0.5)
    .describe("peak level the output is normalised to, linear (0.5 = -6 dBFS)"),
  channels: z
    .number()
    .int()
    .min(1)
    .max(2)
    .default(1)
    .describe("1 (mono: stereo sources are mixed down) or 2 (stereo: mono sources are duplicated)"),
  seed: z
    .number()
    .int()
    .min(0)
    .max(0xffffffff)
    .default(1)
    .describe("random seed: same options and seed, same audio"),
};

export interface CommonOptions {
  sampleRate: number;
  seconds: number;
  amplitude: number;
  channels: number;
}

/**
 * parseOptions, plus the one cross-field check the common options need: the length must come to at least
 * one sample.
 */
export function parseMaterialOptions<S extends z.ZodObject>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const options = parseOptions(schema, input, what);
  const { seconds, sampleRate } = options as unknown as CommonOptions;
  if (Math.round(seconds * sampleRate) < 1) {
    throw new OptionError(
      "options/invalid",
      `${what}: seconds: ${seconds} s at ${sampleRate} Hz is less than one sample`,
    );
  }
  return options;
}

/** Fade applied where the output is cut, so the cut is not a click: 10 ms. */
const CUT_FADE_SECONDS = 0.01;

/**
 * Gives `channels` channels: mono is the average of all input channels; two channels from mono are two
 * copies; two from stereo are the input's first two.
 */
export function toChannelCount(audio: Audio, channels: number): Audio {
  if (audio.channels.length === channels) return audio;
  if (channels === 1) return makeAudio(audio.sampleRate, [mixToMono(audio)]);
  const first = audio.channels[0]!;
  const second = audio.channels[1] ?? first.slice();
  return makeAudio(audio.sampleRate, [first, second]);
}

/**
 * Exactly `seconds` long (round(seconds * sampleRate) frames): longer audio is cut with a 10 ms fade-out,
 * shorter audio is padded with silence.
 */
export function toLength(audio: Audio, seconds: number): Audio {
  const frames = Math.round(seconds * audio.sampleRate);
  const fade = Math.min(frames, Math.round(CUT_FADE_SECONDS * audio.sampleRate));
  return makeAudio(
    audio.sampleRate,
    audio.channels.map((channel) => {
      if (channel.length === frames) return channel;
      const out = new Float32Array(frames);
      out.set(channel.subarray(0, frames));
      if (channel.length > frames) {
        for (let i = 0; i < fade; i++) out[frames - 1 - i]! *= i / fade;
      }
      return out;
    }),
  );
}

/** Scales to the given linear peak. Throws material/silent when the audio is all zeros (nothing to scale). */
export function normalisePeak(audio: Audio, amplitude: number, what: string): Audio {
  const level = peak(audio);
  if (!(level > 0 && Number.isFinite(level))) {
    throw new DeepspError(
      "material/silent",
      `${what} produced ${level > 0 ? "non-finite samples" : "silence"}`,
    );
  }
  const gain = amplitude / level;
  return makeAudio(
    audio.sampleRate,
    audio.channels.map((channel) => channel.map((x) => x * gain)),
  );
}

/** The common finishing chain: channel count, then length, then peak level (after the cut, so it is exact). */
export function finish(audio: Audio, options: CommonOptions, what: string): Audio {
  if (audio.sampleRate !== options.sampleRate) {
    throw new DeepspError(
      "material/internal",
      `${what}: audio at ${audio.sampleRate} Hz, expected ${options.sampleRate} Hz`,
    );
  }
  return normalisePeak(
    toLength(toChannelCount(audio, options.channels), options.seconds),
    options.amplitude,
    what,
  );
}

/** The contract an external material kind fulfils, so the CLI can list and run it next to the built-in ones. */
export interface ExternalMaterialKind<S extends z.ZodObject = z.ZodObject> {
  name: string;
  /** One or two sentences for `--help`: what it sounds like, what it needs, whether it is deterministic. */
  description: string;
  /** Strict zod schema of the options, every field described (with units). */
  schema: S;
  /** Programs it runs and the Debian packages that install them. */
  requires: ToolRequirement[];
  /** undefined when usable here, else one line saying what to install. */
  unavailableReason(): Promise<string | undefined>;
  generate(options: z.input<S>): Promise<Audio>;
}

/** undefined when every required program is on PATH, else "apt-get install -y ..." for the missing ones. */
export async function missingPrograms(requires: readonly ToolRequirement[]): Promise<string | undefined> {
  const missing: ToolRequirement[] = [];
  for (const requirement of requires) {
    if ((await findProgram(requirement)) === undefined) missing.push(requirement);
  }
  if (missing.length === 0) return undefined;
  const names = missing.map((m) => m.program).join(", ");
  const packages = [...new Set(missing.flatMap((m) => m.debianPackage.split(" ")))].join(" ");
  return `${names} ${missing.length === 1 ? "is" : "are"} not installed (apt-get install -y ${packages})`;
}
