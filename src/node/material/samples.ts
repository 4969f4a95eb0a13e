import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import decode from "audio-decode";
import { z } from "zod";
import { type Audio, makeAudio, peak } from "../../audio/audio.ts";
import { resample } from "../../audio/resample.ts";
import { DeepspError, OptionError } from "../../core/errors.ts";
import { deriveSeed, Rng } from "../../core/rng.ts";
import {
  commonShape,
  type ExternalMaterialKind,
  finish,
  parseMaterialOptions,
  toChannelCount,
} from "./common.ts";

/**
 * Recorded material: the Sonic Pi sample library (npm `supersonic-scsynth-samples`, CC0: guitar clips,
 * drum loops, ambient textures, bass and percussion hits; FLAC, 44.1 kHz, mostly stereo), decoded with
 * audio-decode, each clip scaled to the same peak, then played one after another with short gaps until
 * the requested length. Pure JavaScript, no external program; deterministic.
 */

const PACKAGE = "supersonic-scsynth-samples";

/** The package's drum-beat loops (its other loops are drones, machines and effects). */
const DRUM_LOOPS = new Set([
  "loop_amen",
  "loop_amen_full",
  "loop_breakbeat",
  "loop_compus",
  "loop_garzul",
  "loop_industrial",
  "loop_mika",
  "loop_perc1",
  "loop_perc2",
  "loop_safari",
  "loop_tabla",
  "arovane_beat_a",
  "arovane_beat_b",
  "arovane_beat_c",
  "arovane_beat_d",
  "arovane_beat_e",
]);

/** Clip groups by name prefix or list (the package's names; see its README). */
const GROUPS = {
  guitar: (name: string) => name.startsWith("guit_"),
  drums: (name: string) => DRUM_LOOPS.has(name),
  ambient: (name: string) => name.startsWith("ambi_"),
  bass: (name: string) => name.startsWith("bass_"),
  percussion: (name: string) => /^(bd|sn|hat|drum|perc|tabla)_/.test(name),
  all: (_name: string) => true,
} as const;

type GroupName = keyof typeof GROUPS;

export const samplesSchema = z.strictObject({
  ...commonShape,
  group: z
    .enum(Object.keys(GROUPS) as [GroupName, ...GroupName[]])
    .default("guitar")
    .describe(
      "which clips, in a seeded order: guitar (guit_*), drums (breakbeat loops), ambient (ambi_*), bass (bass_*), " +
        "percussion (single hits), all",
    ),
  names: z
    .array(z.string().regex(/^[a-z0-9_]+$/, "a sample name such as guit_em9"))
    .min(1)
    .optional()
    .describe(
      "sample names played in this order, e.g. guit_em9,loop_amen (comma-separated); overrides group",
    ),
  gapSeconds: z.number().min(0).max(10).default(0.2).describe("silence between clips in seconds"),
});

/** The folder holding the package's FLAC files; throws material/unavailable when the package is not installed. */
export function samplesDir(): string {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(PACKAGE));
  } catch (error) {
    throw new DeepspError("material/unavailable", `${PACKAGE} is not installed (npm install ${PACKAGE})`, {
      cause: error,
    });
  }
  return join(dirname(entry), "samples");
}

/** Names (without .flac) of every clip in the package, sorted. */
export async function sampleNames(): Promise<string[]> {
  const files = await readdir(samplesDir());
  return files
    .filter((file) => file.endsWith(".flac"))
    .map((file) => file.slice(0, -".flac".length))
    .sort();
}

/**
 * Decodes one clip. audio-decode reports some bad input only by returning a sample rate of 0 or no
 * channels, so the result is checked here rather than trusted.
 */
export async function loadSample(name: string): Promise<Audio> {
  const path = join(samplesDir(), `${name}.flac`);
  let decoded: { channelData: Float32Array[]; sampleRate: number };
  try {
    decoded = await decode(new Uint8Array(await readFile(path)));
  } catch (error) {
    throw new DeepspError("material/decode", `cannot decode ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return checkDecoded(decoded, path);
}

/**
 * audio-decode's result as Audio, after checking what it does not: a positive rate (it returns 0 for some
 * bad files instead of throwing), at least one channel, equal non-zero lengths. Throws material/decode.
 */
export function checkDecoded(
  decoded: { channelData: Float32Array[]; sampleRate: number },
  source: string,
): Audio {
  const { channelData, sampleRate } = decoded;
  const length = channelData[0]?.length ?? 0;
  if (
    !(Number.isFinite(sampleRate) && sampleRate > 0) ||
    length === 0 ||
    channelData.some((c) => c.length !== length)
  ) {
    throw new DeepspError(
      "material/decode",
      `cannot decode ${source}: audio-decode returned rate ${sampleRate} Hz, ${channelData.length} channel(s) of ` +
        `${channelData.map((c) => c.length).join("/") || 0} samples`,
    );
  }
  return makeAudio(sampleRate, channelData);
}

/** Which clips to play, in order: the given names, or the group cycled, reshuffled each time round. */
function* clipOrder(names: readonly string[], shuffle: boolean, seed: number): Generator<string> {
  for (let round = 0; ; round++) {
    const order = shuffle ? new Rng(deriveSeed(seed, "samples", round)).shuffle([...names]) : names;
    yield* order;
  }
}

export const samplesKind: ExternalMaterialKind<typeof samplesSchema> = {
  name: "samples",
  description:
    "CC0 recordings from the Sonic Pi library (guitar, drum loops, ambient, bass, percussion), joined with gaps",
  schema: samplesSchema,
  requires: [],
  unavailableReason: async () => {
    try {
      await readdir(samplesDir());
      return undefined;
    } catch (error) {
      return error instanceof DeepspError
        ? error.message
        : `${PACKAGE} samples are unreadable (npm install ${PACKAGE})`;
    }
  },
  generate: async (input) => {
    const options = parseMaterialOptions(samplesSchema, input, "samples options");
    const available = await sampleNames();
    let chosen: string[];
    if (options.names !== undefined) {
      chosen = options.names;
      const unknown = chosen.filter((name) => !available.includes(name));
      if (unknown.length > 0) {
        const examples = available.slice(0, 5).join(", ");
        throw new OptionError(
          "options/invalid",
          `samples options: names: unknown sample(s) ${unknown.join(", ")} (in ${samplesDir()}: ${examples}, ...)`,
        );
      }
    } else {
      chosen = available.filter(GROUPS[options.group]);
    }

    if (chosen.length === 0) {
      throw new DeepspError("material/unavailable", `no samples in group ${options.group}`);
    }

    const frames = Math.round(options.seconds * options.sampleRate);
    const gap = new Float32Array(Math.round(options.gapSeconds * options.sampleRate));
    const pieces: Float32Array[][] = []; // per piece, one array per output channel
    let total = 0;
    for (const name of clipOrder(chosen, options.names === undefined, options.seed)) {
      if (total >= frames) break;
      const clip = await loadSample(name);
      const level = peak(clip);
      if (level === 0) throw new DeepspError("material/silent", `sample ${name} is silent`);
      // Only what is still needed (plus the resampler's reach) is kept, so a long loop is not resampled whole.
      const needed = Math.ceil(((frames - total) * clip.sampleRate) / options.sampleRate) + 64;
      // Same peak for every clip: the library's clips are mastered at very different levels.
      const scaled = makeAudio(
        clip.sampleRate,
        clip.channels.map((c) => c.subarray(0, needed).map((x) => x / level)),
      );
      const piece = resample(toChannelCount(scaled, options.channels), options.sampleRate);
      pieces.push(
        [...piece.channels],
        piece.channels.map(() => gap),
      );
      total += piece.channels[0]!.length + gap.length;
    }
    const channels = Array.from({ length: options.channels }, (_, ch) => {
      const out = new Float32Array(total);
      let offset = 0;
      for (const piece of pieces) {
        out.set(piece[ch]!, offset);
        offset += piece[ch]!.length;
      }
      return out;
    });
    return finish(makeAudio(options.sampleRate, channels), options, "samples");
  },
};
