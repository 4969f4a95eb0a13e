import { z } from "zod";
import { type Audio, makeAudio } from "../audio/audio.ts";
import { parseOptions } from "../core/options.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import { checkCommon, commonOptions, dbToGain, framesFor } from "./common.ts";
import { blips, chirps, type MarkedAudio } from "./events.ts";
import { melody } from "./melody.ts";
import { noise } from "./noise.ts";
import { sweep } from "./sweeps.ts";
import { type ChordName, chord } from "./tones.ts";

/** Shortest standard signal: the fixed parts take 4.25 s and the body needs room for every section. */
const MIN_SECONDS = 20;

/** Options of `standard`. */
export const standardSchema = z
  .strictObject({
    ...commonOptions(60, {
      independent: "each section's own independent mode; blips stay identical",
      seed: "drives the melody, chords and noise",
      amplitude: "peak level of the 0 dB step, linear full scale",
    }),
    levelsDb: z
      .array(z.number().min(-60).max(0))
      .min(1)
      .max(8)
      .default([-24, -12, -6, 0])
      .describe("level steps, dB relative to amplitude (each <= 0)"),
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    if (options.seconds < MIN_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["seconds"],
        message: `expected >= ${MIN_SECONDS} for the standard signal`,
      });
    }
  });

export type StandardOptions = z.input<typeof standardSchema>;
type Parsed = z.output<typeof standardSchema>;

/** One stretch of the standard signal, in samples [start, end). Sections tile the whole signal in order. */
export interface Section {
  /** The material kind it was made with: silence, blips, sweep, chirps, melody, chord or noise. */
  readonly kind: string;
  /** What it is, for people: "sine sweep 20-20000 Hz at -12 dB". */
  readonly label: string;
  /** Level relative to `amplitude`, dB (0 for silence and blips). */
  readonly levelDb: number;
  readonly start: number;
  readonly end: number;
}

/** Where things are in a standard signal, known without rendering it. */
export interface StandardLayout {
  /** Total length, samples. */
  readonly frames: number;
  /** Sample indices of the blips, the same in every channel (see `standard`). */
  readonly markers: readonly number[];
  readonly sections: readonly Section[];
}

/** The rendered standard signal: audio, its blip markers per channel (all equal), and its sections. */
export interface StandardAudio extends MarkedAudio {
  readonly sections: readonly Section[];
}

/** Gap of silence after each body section, seconds: lets an effect's tail (reverb, delay) die down. */
const GAP_SECONDS = 0.25;
/** Blip times, seconds: three impulses in the first two seconds, 0.5 s apart, after a short silence. */
const BLIP_SECONDS = [0.5, 1.0, 1.5] as const;
const BLIPS_FROM_SECONDS = 0.25;
/** Share of the body (total - 4.25 s of fixed parts) each section gets. */
const SHARES = { sweeps: 0.25, chirps: 0.05, melody: 0.3, chords: 0.1, noise: 0.3 } as const;

/**
 * A composite capture signal (in the spirit of NAM's input.wav, written from scratch): play it through the
 * device, record the result, and the pair covers levels, frequencies and music-like material, while the
 * blips at known samples let alignment code measure latency. Layout for the defaults (60 s, levelsDb
 * [-24, -12, -6, 0]); every other length scales the body and keeps the fixed parts:
 *
 *   0.00-0.25 s  silence (the recording's noise floor)
 *   0.25-2.00 s  blips: single-sample impulses of `amplitude` at 0.5, 1.0 and 1.5 s (`markers`)
 *   body, each section followed by 0.25 s of silence:
 *     25%  sweeps: an exponential sine sweep 20 Hz..20 kHz (capped at 0.45 x sampleRate) at each level,
 *          then triangle, square and sawtooth sweeps 30 Hz..5 kHz (capped at 0.2 x sampleRate) at 0 dB
 *      5%  chirps: 50 ms exponential sine chirps 100 Hz..10 kHz with 50 ms gaps, one group per level
 *     30%  melody: seeded plucked-string and piano phrases (see melody.ts), at 0 dB
 *     10%  chords: one seeded chord (sawtooth) per level
 *     30%  noise: pink then white gaussian noise at each level (peak level)
 *   last 1 s     silence (lets tails end; the end of the file is quiet for trimming)
 *
 * Levels are peaks relative to `amplitude`; the 0 dB step peaks at exactly `amplitude`. With 2 channels
 * and stereo "independent" every section uses its kind's independent mode, but the blips are identical in
 * all channels so latency can be measured per channel. Sections get their own seeds derived from `seed`.
 * Rendering the default 60 s at 48 kHz takes about 0.7 s mono, 1.5 s with independent stereo.
 */
export function standard(options: StandardOptions = {}): StandardAudio {
  const o = parseOptions(standardSchema, options, "standard options");
  const plan = planStandard(o);
  const channels = Array.from({ length: o.channels }, () => new Float32Array(plan.frames));
  for (const step of plan.steps) {
    if (!step.render) continue;
    const audio = step.render((step.section.end - step.section.start) / o.sampleRate);
    channels.forEach((channel, c) => {
      const source = audio.channels[c]!;
      channel.set(source.subarray(0, step.section.end - step.section.start), step.section.start);
    });
  }
  return {
    ...makeAudio(o.sampleRate, channels),
    markers: channels.map(() => plan.markers),
    sections: plan.steps.map((step) => step.section),
  };
}

/** Frames, blip markers and sections of the standard signal for these options, without rendering it. */
export function standardLayout(options: StandardOptions = {}): StandardLayout {
  const plan = planStandard(parseOptions(standardSchema, options, "standard options"));
  return { frames: plan.frames, markers: plan.markers, sections: plan.steps.map((step) => step.section) };
}

interface Step {
  section: Section;
  /** Renders the section for `seconds` (absent for silence). */
  render?: (seconds: number) => Audio;
}

function planStandard(o: Parsed): { frames: number; markers: number[]; steps: Step[] } {
  const frames = framesFor(o.seconds, o.sampleRate);
  const shared = { sampleRate: o.sampleRate, channels: o.channels, stereo: o.stereo };
  const seedFor = (...labels: (string | number)[]) => deriveSeed(o.seed, "standard", ...labels);
  const levels = o.levelsDb;
  const top = Math.max(...levels);
  const at = (db: number) => o.amplitude * dbToGain(db);
  const body = o.seconds - 2 - 5 * GAP_SECONDS - 1; // seconds left for the five body sections
  const steps: Step[] = [];
  let time = 0; // seconds from the start
  const add = (kind: string, label: string, levelDb: number, seconds: number, render?: Step["render"]) => {
    const start = framesFor(time, o.sampleRate);
    time += seconds;
    const end = Math.min(frames, framesFor(time, o.sampleRate));
    steps.push(
      render
        ? { section: { kind, label, levelDb, start, end }, render }
        : { section: { kind, label, levelDb, start, end } },
    );
  };
  const gap = () => add("silence", "gap", 0, GAP_SECONDS);

  add("silence", "noise floor", 0, BLIPS_FROM_SECONDS);
  const blipsFrom = framesFor(BLIPS_FROM_SECONDS, o.sampleRate);
  // positions inside the blips section, exactly as blips() computes them
  const markers = BLIP_SECONDS.map(
    (seconds) => blipsFrom + framesFor(seconds - BLIPS_FROM_SECONDS, o.sampleRate),
  );
  add("blips", `impulses at ${BLIP_SECONDS.join(", ")} s`, 0, 2 - BLIPS_FROM_SECONDS, (seconds) =>
    blips({
      ...shared,
      stereo: "identical",
      seconds,
      amplitude: o.amplitude,
      firstSeconds: BLIP_SECONDS[0] - BLIPS_FROM_SECONDS,
      spacingSeconds: BLIP_SECONDS[1] - BLIP_SECONDS[0],
    }),
  );

  const sineTopHz = Math.min(20000, 0.45 * o.sampleRate);
  const shapeTopHz = Math.min(5000, 0.2 * o.sampleRate);
  const sweepSeconds = (body * SHARES.sweeps) / (levels.length + 3);
  for (const db of levels) {
    add("sweep", `sine sweep 20-${sineTopHz} Hz at ${db} dB`, db, sweepSeconds, (seconds) =>
      sweep({ ...shared, seconds, amplitude: at(db), waveform: "sine", startHz: 20, endHz: sineTopHz }),
    );
  }
  for (const waveform of ["triangle", "square", "sawtooth"] as const) {
    add("sweep", `${waveform} sweep 30-${shapeTopHz} Hz at ${top} dB`, top, sweepSeconds, (seconds) =>
      sweep({ ...shared, seconds, amplitude: at(top), waveform, startHz: 30, endHz: shapeTopHz }),
    );
  }
  gap();

  const chirpTopHz = Math.min(10000, 0.45 * o.sampleRate);
  for (const db of levels) {
    add(
      "chirps",
      `50 ms chirps 100-${chirpTopHz} Hz at ${db} dB`,
      db,
      (body * SHARES.chirps) / levels.length,
      (seconds) =>
        chirps({
          ...shared,
          seconds,
          amplitude: at(db),
          startHz: 100,
          endHz: chirpTopHz,
          chirpSeconds: 0.05,
          gapSeconds: 0.05,
        }),
    );
  }
  gap();

  add("melody", "seeded pluck and piano phrases", top, body * SHARES.melody, (seconds) =>
    melody({ ...shared, seconds, amplitude: at(top), seed: seedFor("melody") }),
  );
  gap();

  const chordRng = new Rng(seedFor("chords"));
  const chordChoices: ChordName[] = ["major", "minor", "dominant7", "minor7", "sus4", "power"];
  for (const db of levels) {
    const name = chordChoices[chordRng.int(chordChoices.length)]!;
    const root = 40 + chordRng.int(13); // E2..E3
    add(
      "chord",
      `${name} chord on MIDI ${root} at ${db} dB`,
      db,
      (body * SHARES.chords) / levels.length,
      (seconds) =>
        chord({ ...shared, seconds, amplitude: at(db), chord: name, root, seed: seedFor("chord", root) }),
    );
  }
  gap();

  for (const [index, db] of levels.entries()) {
    for (const color of ["pink", "white"] as const) {
      add("noise", `${color} noise at ${db} dB`, db, (body * SHARES.noise) / (2 * levels.length), (seconds) =>
        noise({ ...shared, seconds, amplitude: at(db), color, seed: seedFor("noise", color, index) }),
      );
    }
  }
  gap();
  add("silence", "tail", 0, o.seconds - time);
  const tail = steps[steps.length - 1]!;
  tail.section = { ...tail.section, end: frames }; // absorb rounding: sections tile all frames
  return { frames, markers, steps };
}
