import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { type Audio, makeAudio, mixToMono } from "../../audio/audio.ts";
import { resample } from "../../audio/resample.ts";
import { decodeWav } from "../../audio/wav.ts";
import { Rng } from "../../core/rng.ts";
import { runTool, type ToolRequirement, withTempDir } from "../tools.ts";
import {
  commonShape,
  type ExternalMaterialKind,
  finish,
  missingPrograms,
  parseMaterialOptions,
} from "./common.ts";

/**
 * Speech material from espeak-ng (formant synthesis: clearly synthetic, but real speech rhythm, pitch
 * contours, voiced/unvoiced sounds and pauses). espeak-ng writes 16-bit mono at 22050 Hz; we resample to the
 * requested rate. Measured bit-identical from run to run.
 */

const REQUIRES: ToolRequirement[] = [{ program: "espeak-ng", debianPackage: "espeak-ng" }];

/**
 * Harvard sentences (IEEE Recommended Practice for Speech Quality Measurements, 1969, lists 1-2),
 * phonetically balanced and in the public domain.
 */
export const BUILT_IN_SENTENCES: readonly string[] = [
  "The birch canoe slid on the smooth planks.",
  "Glue the sheet to the dark blue background.",
  "It's easy to tell the depth of a well.",
  "These days a chicken leg is a rare dish.",
  "Rice is often served in round bowls.",
  "The juice of lemons makes fine punch.",
  "The box was thrown beside the parked truck.",
  "The hogs were fed chopped corn and garbage.",
  "Four hours of steady work faced us.",
  "A large size in stockings is hard to sell.",
  "The boy was there when the sun rose.",
  "A rod is used to catch pink salmon.",
  "The source of the huge river is the clear spring.",
  "Kick the ball straight and follow through.",
  "Help the woman get back to her feet.",
  "A pot of tea helps to pass the evening.",
  "Smoky fires lack flame and heat.",
  "The soft cushion broke the man's fall.",
  "The salt breeze came across from the sea.",
  "The girl at the booth sold fifty bonds.",
];

/** Silence between repeats when the speech is shorter than the requested length, in seconds. */
const REPEAT_GAP_SECONDS = 0.3;

export const speechSchema = z.strictObject({
  ...commonShape,
  voice: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_+/.-]*$/, "a voice name such as en-us, en-gb or en-us+f3")
    .default("en-us")
    .describe(
      "espeak-ng voice, optionally with a variant (en-us, en-gb, en-us+f3...; list: espeak-ng --voices)",
    ),
  wordsPerMinute: z
    .number()
    .int()
    .min(80)
    .max(450)
    .default(160)
    .describe("speaking rate in words per minute"),
  pitch: z
    .number()
    .int()
    .min(0)
    .max(99)
    .default(50)
    .describe("espeak-ng pitch adjustment, 0..99 (50 = the voice's own)"),
  text: z
    .string()
    .min(1)
    .max(100_000)
    .optional()
    .describe(
      "text to speak (repeated to fill the length); default: built-in Harvard sentences in a seeded order",
    ),
});

export interface SpeakOptions {
  text: string;
  voice: string;
  wordsPerMinute: number;
  pitch: number;
  timeoutSeconds?: number;
}

/** Renders text with espeak-ng; returns mono audio at espeak-ng's own rate (22050 Hz). */
export async function speak(options: SpeakOptions): Promise<Audio> {
  return withTempDir(async (dir) => {
    const wavPath = join(dir, "speech.wav");
    await runTool({
      program: "espeak-ng",
      // --stdin reads the whole text (not line by line); -b 1: the text is UTF-8.
      args: [
        "-v",
        options.voice,
        "-s",
        String(options.wordsPerMinute),
        "-p",
        String(options.pitch),
        "-b",
        "1",
        "-w",
        wavPath,
        "--stdin",
      ],
      stdin: options.text,
      debianPackage: REQUIRES[0]!.debianPackage,
      timeoutSeconds: options.timeoutSeconds ?? 120,
    });
    const { audio } = decodeWav(new Uint8Array(await readFile(wavPath)), { source: "espeak-ng output" });
    return makeAudio(audio.sampleRate, [mixToMono(audio)]);
  });
}

/**
 * The built-in sentences in a seeded order, cycled until there are about 20% more words than `seconds` at
 * `wordsPerMinute` needs (espeak-ng's real rate is a little off and sentences end with pauses).
 */
function builtInText(seed: number, seconds: number, wordsPerMinute: number): string {
  const order = new Rng(seed).shuffle([...BUILT_IN_SENTENCES]);
  const wordsNeeded = Math.ceil(((seconds * wordsPerMinute) / 60) * 1.2);
  const chosen: string[] = [];
  let words = 0;
  for (let i = 0; words < wordsNeeded; i++) {
    const sentence = order[i % order.length]!;
    chosen.push(sentence);
    words += sentence.split(" ").length;
  }
  return chosen.join(" ");
}

/**
 * Repeats mono audio whole, with short gaps, until it has at least `frames` samples (the final cut, with
 * its fade, is left to finish()).
 */
function repeatToLength(audio: Audio, frames: number): Audio {
  const speech = audio.channels[0]!;
  const gap = Math.round(REPEAT_GAP_SECONDS * audio.sampleRate);
  if (speech.length >= frames || speech.length === 0) return audio;
  const repeats = Math.ceil((frames + gap) / (speech.length + gap));
  const out = new Float32Array(repeats * (speech.length + gap) - gap);
  for (let r = 0; r < repeats; r++) out.set(speech, r * (speech.length + gap));
  return makeAudio(audio.sampleRate, [out]);
}

export const speechKind: ExternalMaterialKind<typeof speechSchema> = {
  name: "speech",
  description:
    "synthetic speech from espeak-ng (voice, speed, pitch; default text: Harvard sentences in seeded order)",
  schema: speechSchema,
  requires: REQUIRES,
  unavailableReason: () => missingPrograms(REQUIRES),
  generate: async (input) => {
    const options = parseMaterialOptions(speechSchema, input, "speech options");
    const text = options.text ?? builtInText(options.seed, options.seconds, options.wordsPerMinute);
    const spoken = await speak({
      text,
      voice: options.voice,
      wordsPerMinute: options.wordsPerMinute,
      pitch: options.pitch,
      timeoutSeconds: 60 + options.seconds,
    });
    // Exactly what is needed plus the resampler's reach (64 samples) is resampled; finish() makes the final
    // cut, with its fade, at the output rate.
    const frames = Math.ceil(options.seconds * spoken.sampleRate) + 64;
    const trimmed = makeAudio(spoken.sampleRate, [spoken.channels[0]!.subarray(0, frames)]);
    const filled = repeatToLength(trimmed, frames);
    return finish(resample(filled, options.sampleRate), options, "speech");
  },
};
