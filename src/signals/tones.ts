import { z } from "zod";
import type { Audio } from "../audio/audio.ts";
import { parseOptions } from "../core/options.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import {
  applyFades,
  checkBelowNyquist,
  checkCommon,
  commonOptions,
  finishChannels,
  framesFor,
  midiToHz,
  type RefineContext,
  waveforms,
} from "./common.ts";
import { addTone } from "./oscillators.ts";

/**
 * Held tones and chords: band-limited oscillators (oscillators.ts) at fixed pitches with a raised-cosine
 * attack and release.
 *
 * Stereo "independent": channel 2 plays the same material transposed down by a seeded interval of
 * k + 0.35..0.65 semitones (k = 1..10). Being a third to two-thirds of a semitone away from every
 * equal-tempered interval, no partial of channel 2 comes within 2% of a partial of channel 1 (not even
 * for chords, whose notes would otherwise meet across channels), so every pair of partials beats and the
 * channels' correlation averages out: |r| < 0.1 over a second or more at 100 Hz and up.
 */

/** Semitones channel 2 is transposed down by with independent stereo, for `seed` (see above). */
export function independentInterval(seed: number): number {
  const rng = new Rng(deriveSeed(seed, "interval"));
  return 1 + rng.int(10) + rng.uniform(0.35, 0.65);
}

const envelopeOptions = {
  attackSeconds: z.number().min(0).default(0.01).describe("raised-cosine attack, seconds"),
  releaseSeconds: z.number().min(0).default(0.05).describe("raised-cosine release at the end, seconds"),
};

function checkEnvelope(
  options: { seconds: number; attackSeconds: number; releaseSeconds: number },
  ctx: RefineContext,
): void {
  if (options.attackSeconds + options.releaseSeconds > options.seconds) {
    ctx.addIssue({
      code: "custom",
      path: ["releaseSeconds"],
      message: `expected attackSeconds + releaseSeconds <= seconds (${options.seconds})`,
    });
  }
}

const midiNote = z.number().min(0).max(127);

/** Options of `tone`. */
export const toneSchema = z
  .strictObject({
    ...commonOptions(2, {
      independent: "channel 2 plays a seeded, non-tempered interval lower",
      seed: "picks channel 2's interval with independent stereo",
    }),
    frequencyHz: z.number().positive().optional().describe("pitch in Hz (or give note)"),
    note: midiNote
      .optional()
      .describe("pitch as a MIDI note number, 69 = A4 = 440 Hz (default when no frequencyHz)"),
    waveform: z.enum(waveforms).default("sine").describe("sine, triangle, square or sawtooth (band-limited)"),
    ...envelopeOptions,
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    checkEnvelope(options, ctx);
    if (options.frequencyHz !== undefined && options.note !== undefined) {
      ctx.addIssue({ code: "custom", path: ["note"], message: "expected frequencyHz or note, not both" });
    } else {
      const field = options.frequencyHz !== undefined ? "frequencyHz" : "note";
      checkBelowNyquist(field, toneHz(options), options.sampleRate, ctx);
    }
  });

export type ToneOptions = z.input<typeof toneSchema>;

function toneHz(options: { frequencyHz?: number | undefined; note?: number | undefined }): number {
  return options.frequencyHz ?? midiToHz(options.note ?? 69);
}

/**
 * A held tone at `frequencyHz` (or MIDI `note`; default A4 = 440 Hz), band-limited, starting at phase 0,
 * with a raised-cosine attack and release. Peak equals `amplitude`.
 *
 *   tone({ note: 45, waveform: "square", seconds: 1 })
 */
export function tone(options: ToneOptions = {}): Audio {
  const o = parseOptions(toneSchema, options, "tone options");
  const hz = toneHz(o);
  const frames = framesFor(o.seconds, o.sampleRate);
  return finishChannels(o, (channel) => {
    const out = new Float64Array(frames);
    const transpose = channel === 0 ? 0 : independentInterval(o.seed);
    addTone(out, hz * 2 ** (-transpose / 12), o.waveform, o.sampleRate, 1, 0);
    applyFades(out, framesFor(o.attackSeconds, o.sampleRate), framesFor(o.releaseSeconds, o.sampleRate));
    return out;
  });
}

/** Named chords as semitones above the root. */
export const chordIntervals = {
  major: [0, 4, 7],
  minor: [0, 3, 7],
  diminished: [0, 3, 6],
  augmented: [0, 4, 8],
  sus2: [0, 2, 7],
  sus4: [0, 5, 7],
  major7: [0, 4, 7, 11],
  minor7: [0, 3, 7, 10],
  dominant7: [0, 4, 7, 10],
  power: [0, 7, 12],
} as const satisfies Record<string, readonly number[]>;

export type ChordName = keyof typeof chordIntervals;
export const chordNames = Object.keys(chordIntervals) as [ChordName, ...ChordName[]];

/** Options of `chord`. */
export const chordSchema = z
  .strictObject({
    ...commonOptions(2, {
      independent: "channel 2 plays the chord a seeded, non-tempered interval lower",
      seed: "picks each note's starting phase and, with independent stereo, channel 2's interval",
    }),
    notes: z
      .array(midiNote)
      .min(1)
      .max(16)
      .optional()
      .describe("MIDI note numbers to play together (or give chord)"),
    chord: z.enum(chordNames).optional().describe("named chord on root (default major when no notes)"),
    root: midiNote.default(48).describe("root of the named chord, MIDI note number (48 = C3)"),
    waveform: z
      .enum(waveforms)
      .default("sawtooth")
      .describe("sine, triangle, square or sawtooth (band-limited)"),
    ...envelopeOptions,
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    checkEnvelope(options, ctx);
    if (options.notes !== undefined && options.chord !== undefined) {
      ctx.addIssue({ code: "custom", path: ["chord"], message: "expected notes or chord, not both" });
    } else {
      const highest = Math.max(...chordNotes(options));
      checkBelowNyquist(options.notes ? "notes" : "root", midiToHz(highest), options.sampleRate, ctx);
    }
  });

export type ChordOptions = z.input<typeof chordSchema>;

/** The MIDI notes a chord option set plays. */
export function chordNotes(options: {
  notes?: readonly number[] | undefined;
  chord?: ChordName | undefined;
  root: number;
}): readonly number[] {
  return options.notes ?? chordIntervals[options.chord ?? "major"].map((interval) => options.root + interval);
}

/**
 * Notes held together: `notes` (MIDI numbers) or a named `chord` on `root`, each a band-limited oscillator
 * with a seeded random starting phase (so the notes' peaks do not all line up at the start, and the seed
 * matters), equal level per note, one raised-cosine attack and release. Peak of the sum equals `amplitude`.
 *
 *   chord({ chord: "minor7", root: 45, waveform: "sawtooth", seconds: 2 })
 */
export function chord(options: ChordOptions = {}): Audio {
  const o = parseOptions(chordSchema, options, "chord options");
  const notes = chordNotes(o);
  const frames = framesFor(o.seconds, o.sampleRate);
  return finishChannels(o, (channel) => {
    const rng = new Rng(deriveSeed(o.seed, "chord", channel));
    const transpose = channel === 0 ? 0 : independentInterval(o.seed);
    const out = new Float64Array(frames);
    for (const note of notes) {
      addTone(out, midiToHz(note - transpose), o.waveform, o.sampleRate, 1, rng.uniform(0, 2 * Math.PI));
    }
    applyFades(out, framesFor(o.attackSeconds, o.sampleRate), framesFor(o.releaseSeconds, o.sampleRate));
    return out;
  });
}
