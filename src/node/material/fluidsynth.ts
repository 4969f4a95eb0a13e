import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Audio } from "../../audio/audio.ts";
import { resample } from "../../audio/resample.ts";
import { decodeWav } from "../../audio/wav.ts";
import { ToolError } from "../../core/errors.ts";
import { runTool, type ToolRequirement, withTempDir } from "../tools.ts";
import {
  commonShape,
  type ExternalMaterialKind,
  finish,
  missingPrograms,
  parseMaterialOptions,
} from "./common.ts";
import { guitarSong, type MidiSong, pianoSong, type SongOptions, writeMidiFile } from "./midi.ts";

/**
 * Piano and guitar material: a seeded MIDI song (./midi.ts) rendered by fluidsynth with the FluidR3 General
 * MIDI SoundFont. Reverb and chorus are switched off (and their sends set to 0 in the song), so the output
 * is the dry instrument. fluidsynth writes 32-bit float WAV, so nothing is clipped or dithered; measured
 * bit-identical samples from run to run (the file differs only in the PEAK chunk's timestamp).
 */

/** Where Debian's fluid-soundfont-gm installs the General MIDI SoundFont (FluidR3_GM, MIT licence). */
export const DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

const REQUIRES: ToolRequirement[] = [
  { program: "fluidsynth", debianPackage: "fluidsynth fluid-soundfont-gm" },
];

/** fluidsynth's synth.sample-rate range in Hz; other rates are rendered at 48 kHz and resampled. */
const FLUIDSYNTH_MIN_RATE = 8000;
const FLUIDSYNTH_MAX_RATE = 96000;

/** General MIDI programs (0-based) per instrument name. */
const PIANO_PROGRAMS = { grand: 0, bright: 1, electric: 4 } as const;
const GUITAR_PROGRAMS = { clean: 27, steel: 25, nylon: 24, jazz: 26 } as const;

const soundfontField = z
  .string()
  .min(1)
  .default(DEFAULT_SOUNDFONT)
  .describe("SoundFont (.sf2) file fluidsynth plays the song with");

export const pianoSchema = z.strictObject({
  ...commonShape,
  instrument: z
    .enum(["grand", "bright", "electric"])
    .default("grand")
    .describe("General MIDI piano: grand (program 0), bright (1) or electric (4, Rhodes-like)"),
  soundfont: soundfontField,
});

export const guitarSchema = z.strictObject({
  ...commonShape,
  instrument: z
    .enum(["clean", "steel", "nylon", "jazz"])
    .default("clean")
    .describe("General MIDI guitar: clean electric (program 27), steel-string (25), nylon (24) or jazz (26)"),
  soundfont: soundfontField,
});

export interface RenderMidiOptions {
  /** A Standard MIDI File. */
  midi: Uint8Array;
  /** Rate fluidsynth renders at, in Hz (8000..96000). */
  sampleRate: number;
  soundfont: string;
  /** fluidsynth's master gain (its default 0.2 is quiet; float output does not clip, so 1 is safe). */
  gain?: number;
  timeoutSeconds?: number;
}

/**
 * Renders a MIDI file with fluidsynth to stereo float audio at `sampleRate`. The output runs past the
 * song's End of Track by fluidsynth's release tail (about 2.5 s). Throws ToolError tool/missing when
 * fluidsynth or the SoundFont is missing (fluidsynth itself renders silence without complaint then).
 */
export async function renderMidi(options: RenderMidiOptions): Promise<Audio> {
  if (!existsSync(options.soundfont)) {
    const hint = options.soundfont === DEFAULT_SOUNDFONT ? " (apt-get install -y fluid-soundfont-gm)" : "";
    throw new ToolError("tool/missing", `SoundFont ${options.soundfont} does not exist${hint}`);
  }
  return withTempDir(async (dir) => {
    const midiPath = join(dir, "song.mid");
    const wavPath = join(dir, "out.wav");
    await writeFile(midiPath, options.midi);
    await runTool({
      program: "fluidsynth",
      // -n: no MIDI input driver, -i: no shell, -q: no banner; -F renders as fast as possible to the file.
      args: [
        "-n",
        "-i",
        "-q",
        "-g",
        String(options.gain ?? 1),
        "-r",
        String(options.sampleRate),
        "-o",
        "synth.reverb.active=0",
        "-o",
        "synth.chorus.active=0",
        "-o",
        "audio.file.format=float",
        "-T",
        "wav",
        "-F",
        wavPath,
        options.soundfont,
        midiPath,
      ],
      debianPackage: REQUIRES[0]!.debianPackage,
      timeoutSeconds: options.timeoutSeconds ?? 120,
    });
    if (!existsSync(wavPath)) {
      throw new ToolError("tool/failed", "fluidsynth exited without writing its output file");
    }
    return decodeWav(new Uint8Array(await readFile(wavPath)), { source: "fluidsynth output" }).audio;
  });
}

interface SongKindOptions {
  sampleRate: number;
  seconds: number;
  amplitude: number;
  channels: number;
  seed: number;
  soundfont: string;
}

async function renderSong(
  options: SongKindOptions,
  program: number,
  compose: (song: SongOptions) => MidiSong,
  what: string,
): Promise<Audio> {
  const song = compose({ seconds: options.seconds, seed: options.seed, program });
  const inRange = options.sampleRate >= FLUIDSYNTH_MIN_RATE && options.sampleRate <= FLUIDSYNTH_MAX_RATE;
  const renderRate = inRange ? options.sampleRate : 48000;
  const rendered = await renderMidi({
    midi: writeMidiFile(song),
    sampleRate: renderRate,
    soundfont: options.soundfont,
    // Renders about 100x real time here; the margin covers slow machines.
    timeoutSeconds: 60 + 2 * options.seconds,
  });
  return finish(resample(rendered, options.sampleRate), options, what);
}

async function soundfontReason(): Promise<string | undefined> {
  const programs = await missingPrograms(REQUIRES);
  if (programs !== undefined) return programs;
  return existsSync(DEFAULT_SOUNDFONT)
    ? undefined
    : `${DEFAULT_SOUNDFONT} is missing (apt-get install -y fluid-soundfont-gm)`;
}

export const pianoKind: ExternalMaterialKind<typeof pianoSchema> = {
  name: "piano",
  description:
    "seeded solo piano (melody over chords) rendered dry by fluidsynth with the FluidR3 GM SoundFont",
  schema: pianoSchema,
  requires: REQUIRES,
  unavailableReason: soundfontReason,
  generate: async (input) => {
    const options = parseMaterialOptions(pianoSchema, input, "piano options");
    return renderSong(options, PIANO_PROGRAMS[options.instrument], pianoSong, "piano");
  },
};

export const guitarKind: ExternalMaterialKind<typeof guitarSchema> = {
  name: "guitar",
  description:
    "seeded guitar (strummed chords, single-note lines) rendered dry by fluidsynth with FluidR3 GM",
  schema: guitarSchema,
  requires: REQUIRES,
  unavailableReason: soundfontReason,
  generate: async (input) => {
    const options = parseMaterialOptions(guitarSchema, input, "guitar options");
    return renderSong(options, GUITAR_PROGRAMS[options.instrument], guitarSong, "guitar");
  },
};
