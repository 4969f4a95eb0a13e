import { z } from "zod";
import type { Audio } from "../audio/audio.ts";
import { parseOptions } from "../core/options.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import {
  applyFades,
  checkCommon,
  commonOptions,
  dbToGain,
  finishChannels,
  framesFor,
  midiToHz,
} from "./common.ts";
import { addPiano, addPluck, type NoteEvent } from "./instruments.ts";

export const instruments = ["pluck", "piano", "mixed"] as const;
export type Instrument = (typeof instruments)[number];

/** Scales as semitones above the root (pentatonic is the minor pentatonic). */
export const scales = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
  pentatonic: [0, 3, 5, 7, 10],
} as const satisfies Record<string, readonly number[]>;
export type ScaleName = keyof typeof scales;
const scaleNames = Object.keys(scales) as [ScaleName, ...ScaleName[]];

/** Highest note the composer may play, semitones above rootNote (it stays below this for every scale). */
const MAX_NOTE_ABOVE_ROOT = 36;

/** Options of `melody`. */
export const melodySchema = z
  .strictObject({
    ...commonOptions(20, {
      independent: "channel 2 plays its own seeded melody",
      seed: "picks every note, rhythm, velocity and instrument",
    }),
    instrument: z
      .enum(instruments)
      .default("mixed")
      .describe("pluck (Karplus-Strong string), piano (additive), or mixed (seeded choice per bar)"),
    tempoBpm: z
      .number()
      .min(30)
      .max(300)
      .default(100)
      .describe("tempo, quarter notes per minute (steps are eighths)"),
    rootNote: z.number().int().min(24).max(84).default(48).describe("key root, MIDI note number (48 = C3)"),
    scale: z.enum(scaleNames).default("minor").describe("major, minor or pentatonic (minor)"),
    dynamicRangeDb: z
      .number()
      .min(0)
      .max(60)
      .default(18)
      .describe("spread of note levels, dB below the loudest"),
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    // the plucked string needs at least 3 samples per period (instruments.ts)
    if (!(midiToHz(options.rootNote + MAX_NOTE_ABOVE_ROOT) < options.sampleRate / 3)) {
      ctx.addIssue({
        code: "custom",
        path: ["rootNote"],
        message: `expected notes up to rootNote + ${MAX_NOTE_ABOVE_ROOT} to stay below sampleRate / 3 (${options.sampleRate / 3} Hz)`,
      });
    }
  });

export type MelodyOptions = z.input<typeof melodySchema>;

/**
 * Seeded music-like material with no external tool: bars of eighth-note steps over a random I-IV-V-vi
 * style progression, each bar an arpeggio, a melodic random walk, or two struck chords (strummed on the
 * plucked string), played by a Karplus-Strong string and/or a decaying additive piano (instruments.ts).
 * Notes overlap as they ring; velocities spread over `dynamicRangeDb` (downbeats accented) and onsets are
 * humanised by up to +-4 ms, so the material covers levels, attacks and decays the way a played part does.
 * It stands in for rendered piano/guitar when fluidsynth is absent. Notes span rootNote - 12 up to
 * less than rootNote + 36. The last 20 ms are faded out; the peak equals `amplitude`.
 *
 *   melody({ seconds: 30, instrument: "piano", scale: "major", seed: 7 })
 */
export function melody(options: MelodyOptions = {}): Audio {
  const o = parseOptions(melodySchema, options, "melody options");
  const frames = framesFor(o.seconds, o.sampleRate);
  return finishChannels(o, (channel) => {
    const rng = new Rng(deriveSeed(o.seed, "melody", channel));
    const out = new Float64Array(frames);
    for (const { instrument, note } of composeMelody(o, rng)) {
      if (instrument === "pluck") addPluck(out, note, o.sampleRate, rng);
      else addPiano(out, note, o.sampleRate, rng);
    }
    applyFades(out, 0, framesFor(0.02, o.sampleRate));
    return out;
  });
}

interface PlacedNote {
  instrument: "pluck" | "piano";
  note: NoteEvent;
}

/** The note list for one channel; draws from `rng` (the renderers draw from it afterwards). */
function composeMelody(o: z.output<typeof melodySchema>, rng: Rng): PlacedNote[] {
  const scale = scales[o.scale];
  const stepSeconds = 30 / o.tempoBpm; // an eighth note
  const barSteps = 8;
  const progression = [0, 3, 4, 5, 0, 4]; // scale degrees of chord roots (I IV V vi...)
  // scale degree -> MIDI note (degrees may be negative or span octaves)
  const midi = (degree: number): number => {
    const octave = Math.floor(degree / scale.length);
    return o.rootNote + 12 * octave + scale[degree - octave * scale.length]!;
  };
  const placed: PlacedNote[] = [];
  const add = (
    instrument: "pluck" | "piano",
    step: number,
    steps: number,
    degree: number,
    accent: boolean,
  ) => {
    const velocity = accent ? Math.max(rng.float(), 0.7) : rng.float();
    const seconds = step * stepSeconds + rng.uniform(-0.004, 0.004);
    placed.push({
      instrument,
      note: {
        start: Math.max(0, Math.round(seconds * o.sampleRate)),
        seconds: steps * stepSeconds,
        hz: midiToHz(midi(degree)),
        gain: dbToGain(-o.dynamicRangeDb * (1 - velocity)),
        velocity,
      },
    });
  };
  for (let bar = 0; bar * barSteps * stepSeconds < o.seconds; bar++) {
    const first = bar * barSteps;
    const instrument = o.instrument === "mixed" ? (rng.float() < 0.5 ? "pluck" : "piano") : o.instrument;
    const root = progression[rng.int(progression.length)]!;
    const triad = [root, root + 2, root + 4];
    const pattern = rng.float();
    if (pattern < 0.4) {
      // arpeggio: chord tones over two octaves, up, down or up-down
      const tones = [...triad, root + scale.length, ...triad.map((d) => d + scale.length)].sort(
        (a, b) => a - b,
      );
      const shape = rng.int(3);
      for (let s = 0; s < barSteps; s++) {
        const position =
          shape === 0
            ? s
            : shape === 1
              ? barSteps - 1 - s
              : s < barSteps / 2
                ? 2 * s
                : 2 * (barSteps - 1 - s) + 1;
        add(instrument, first + s, 1 + rng.int(3), tones[position % tones.length]!, s === 0);
      }
    } else if (pattern < 0.8) {
      // melody: a random walk on the scale starting on a chord tone an octave up, with rests
      let degree = triad[rng.int(3)]! + scale.length;
      for (let s = 0; s < barSteps; ) {
        const steps = [1, 1, 2, 2, 3, 4][rng.int(6)]!;
        if (rng.float() >= 0.15) add(instrument, first + s, steps, degree, s === 0);
        s += steps;
        degree = Math.min(2 * scale.length + 2, Math.max(0, degree + [-2, -1, -1, 0, 1, 1, 2][rng.int(7)]!));
      }
    } else {
      // two struck chords with the root an octave down; strummed (8-25 ms apart) on the string
      for (const s of [0, 4]) {
        const strum = instrument === "pluck" ? rng.uniform(0.008, 0.025) / stepSeconds : 0;
        [root - scale.length, ...triad].forEach((degree, i) => {
          add(instrument, first + s + i * strum, 4, degree, s === 0);
        });
      }
    }
  }
  return placed.filter((p) => p.note.start < Math.round(o.seconds * o.sampleRate));
}
