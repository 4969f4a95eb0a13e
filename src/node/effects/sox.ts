import { z } from "zod";
import { type Audio, frameCount } from "../../audio/audio.ts";
import { OptionError } from "../../core/errors.ts";
import { type AnyEffect, defineEffect, type RenderResult } from "../../effects/effect.ts";
import { runTool, type ToolRequirement } from "../tools.ts";
import {
  copyAudio,
  formatNumber,
  matchInput,
  missingProgramsReason,
  roundTripThroughFiles,
} from "./common.ts";

/**
 * SoX effects (Debian `sox`, SoX 14.4.2) as deepsp effects. Parameters mirror the arguments of each sox effect
 * (`man sox`), with sox's defaults, sox's ranges and the units in the names.
 *
 * How a render runs: the audio is written as a float32 WAV to a temporary folder and processed by
 *   sox -R -D --single-threaded input.wav -e floating-point -b 32 output.wav <effect> <arguments>
 * -R (repeatable: fixed seeds), -D (no dither) and float32 output make the result bit-identical from run to
 * run (measured for every effect here; the tests render each twice). Without them sox dithers its PCM output
 * with a time-seeded random generator.
 *
 * Things to know:
 * - sox processes 32-bit integers internally: input beyond +-1 (0 dBFS) is clipped on the way in, and so is
 *   any effect output beyond +-1 (sox prints "clipped N samples" warnings; gain-out / gainDb avoid it).
 * - Output has the input's length: reverb, echo, chorus, flanger and phaser ring on past the end of the
 *   input and sox writes that tail; it is cut here. Give material a silent end to keep the tail.
 * - Channels are processed independently, except reverb (a stereo input shares one stereo reverb) and
 *   compand (one attack/decay pair links the channels). Reverb turns a mono input into stereo when
 *   stereoDepthPercent > 0; for a mono input the two reverb outputs are averaged back to mono.
 * - None of these effects delays the signal by processing (compand's look-ahead delay is compensated
 *   by sox itself), so latencySamples is always 0.
 */

const SOX: ToolRequirement = { program: "sox", debianPackage: "sox" };

/** Arguments common to every render: repeatable, no dither, single-threaded. */
const GLOBAL_ARGS = ["-R", "-D", "--single-threaded"] as const;

const shapes = ["sine", "triangle"] as const;
const equalizerWidthUnits = ["q", "octaves", "hz", "khz"] as const;
const shelfWidthUnits = ["slope", "q", "octaves", "hz", "khz"] as const;

/** sox's suffix for a width: 1.5q, 1o, 100h, 0.2k, 0.5s. */
function widthArgument(width: number, unit: (typeof shelfWidthUnits)[number]): string {
  const suffix = { slope: "s", q: "q", octaves: "o", hz: "h", khz: "k" }[unit];
  return `${formatNumber(width)}${suffix}`;
}

function requireBelowNyquist(effect: string, field: string, hz: number, sampleRate: number): void {
  const nyquistHz = sampleRate / 2;
  if (hz >= nyquistHz) {
    throw new OptionError(
      "options/invalid",
      `${effect} parameters: ${field}: must be below Nyquist (${nyquistHz} Hz at ${sampleRate} Hz), got ${hz}`,
    );
  }
}

/** Throws an OptionError for a cross-field rule sox would reject with a less helpful message. */
function invalid(effect: string, problem: string): never {
  throw new OptionError("options/invalid", `${effect} parameters: ${problem}`);
}

/**
 * Runs `sox` with one effect on `audio` and gives back the output made to the input's length.
 * Exported for tests and for callers that need a sox effect this file does not wrap.
 */
export async function renderSox(audio: Audio, effectArgs: readonly string[]): Promise<RenderResult> {
  if (frameCount(audio) === 0) return { audio: copyAudio(audio), latencySamples: 0 };
  const output = await roundTripThroughFiles(audio, "sox", async ({ input, output }) => {
    await runTool({
      program: SOX.program,
      debianPackage: SOX.debianPackage,
      args: [...GLOBAL_ARGS, input, "-e", "floating-point", "-b", "32", output, ...effectArgs],
    });
  });
  return { audio: matchInput(output, audio, "sox"), latencySamples: 0 };
}

interface SoxEffectSpec<S extends z.ZodObject> {
  /** Without the "sox." prefix. */
  name: string;
  description: string;
  schema: S;
  /** The sox effect name and its arguments; may throw OptionError for rules that need the sample rate. */
  args(parameters: z.output<S>, audio: Audio): string[];
}

function soxEffect<S extends z.ZodObject>(spec: SoxEffectSpec<S>): AnyEffect {
  return defineEffect({
    name: `sox.${spec.name}`,
    engine: "sox",
    description: spec.description,
    schema: spec.schema,
    render: (audio, parameters) => renderSox(audio, spec.args(parameters, audio)),
    unavailableReason: () => missingProgramsReason([SOX]),
  });
}

const overdriveSchema = z.strictObject({
  gainDb: z.number().min(0).max(100).default(20).describe("drive into the clipper, dB (sox: gain, 0..100)"),
  colour: z
    .number()
    .min(0)
    .max(100)
    .default(20)
    .describe("even-harmonic content, 0..100 (sox: colour; a DC offset before the clipper)"),
});

export const soxOverdrive = soxEffect({
  name: "overdrive",
  description: "sox overdrive: gain into a cubic soft clipper (tanh-like), colour adds even harmonics",
  schema: overdriveSchema,
  args: (o) => ["overdrive", formatNumber(o.gainDb), formatNumber(o.colour)],
});

/** sox's transfer function: dB levels separated by commas ("-70,-60,-20"; -inf allowed). */
const transferPattern = /^\s*(-?inf|[-+]?\d+(\.\d+)?)(\s*,\s*(-?inf|[-+]?\d+(\.\d+)?))*\s*$/;

const compandSchema = z.strictObject({
  attackSeconds: z
    .number()
    .min(0)
    .max(10)
    .default(0.3)
    .describe("time to follow rising levels, seconds (sox: attack1)"),
  decaySeconds: z
    .number()
    .min(0)
    .max(10)
    .default(1)
    .describe("time to follow falling levels, seconds (sox: decay1)"),
  softKneeDb: z
    .number()
    .min(0)
    .max(60)
    .default(6)
    .describe("rounding of the transfer function's corners, dB (sox: soft-knee-dB)"),
  transferDb: z
    .string()
    .regex(
      transferPattern,
      'comma-separated dB levels such as "-70,-60,-20" (sox: in-dB1[,out-dB1]{,in,out})',
    )
    .default("-70,-60,-20")
    .describe(
      "transfer function points in dBFS: in1[,out1],in2,out2,...; the default maps -60..0 dB into -20..0 dB (3:1 compression above -60 dB)",
    ),
  gainDb: z
    .number()
    .min(-60)
    .max(60)
    .default(-5)
    .describe("gain after the transfer function, dB (sox: gain)"),
  initialVolumeDb: z
    .number()
    .min(-200)
    .max(0)
    .default(-90)
    .describe("level assumed before the signal starts, dBFS (sox: initial-volume-dB)"),
  delaySeconds: z
    .number()
    .min(0)
    .max(5)
    .default(0.2)
    .describe("look-ahead, seconds (sox: delay); the output stays aligned with the input"),
});

export const soxCompand = soxEffect({
  name: "compand",
  description:
    "sox compand: compressor/expander with a piecewise-linear dB transfer function, attack/decay level follower and look-ahead",
  schema: compandSchema,
  args: (o, audio) => {
    // sox sizes its look-ahead buffer as floor(delay * rate * channels) samples; an odd count would swap the
    // channels of a stereo file. Whole frames plus half a sample keep the floor at frames * channels.
    const frames = Math.round(o.delaySeconds * audio.sampleRate);
    const delay = frames === 0 ? 0 : (frames + 0.5 / audio.channels.length) / audio.sampleRate;
    return [
      "compand",
      `${formatNumber(o.attackSeconds)},${formatNumber(o.decaySeconds)}`,
      `${formatNumber(o.softKneeDb)}:${o.transferDb.replace(/\s+/g, "")}`,
      formatNumber(o.gainDb),
      formatNumber(o.initialVolumeDb),
      delay.toPrecision(12),
    ];
  },
});

const reverbSchema = z.strictObject({
  reverberancePercent: z.number().min(0).max(100).default(50).describe("tail length, % (sox: reverberance)"),
  hfDampingPercent: z
    .number()
    .min(0)
    .max(100)
    .default(50)
    .describe("high-frequency damping of the tail, % (sox: HF-damping)"),
  roomScalePercent: z.number().min(0).max(100).default(100).describe("room size, % (sox: room-scale)"),
  stereoDepthPercent: z
    .number()
    .min(0)
    .max(100)
    .default(100)
    .describe("width of the stereo tail, % (sox: stereo-depth; a mono input's two tails are averaged)"),
  preDelayMs: z
    .number()
    .min(0)
    .max(500)
    .default(0)
    .describe("delay before the tail starts, ms (sox: pre-delay)"),
  wetGainDb: z.number().min(-10).max(10).default(0).describe("level of the tail, dB (sox: wet-gain)"),
  wetOnly: z.boolean().default(false).describe("output only the reverberation, no dry signal (sox: -w)"),
});

export const soxReverb = soxEffect({
  name: "reverb",
  description:
    "sox reverb: freeverb-style room reverberation (dry + tail; the tail past the input's end is cut)",
  schema: reverbSchema,
  args: (o) => [
    "reverb",
    ...(o.wetOnly ? ["-w"] : []),
    formatNumber(o.reverberancePercent),
    formatNumber(o.hfDampingPercent),
    formatNumber(o.roomScalePercent),
    formatNumber(o.stereoDepthPercent),
    formatNumber(o.preDelayMs),
    formatNumber(o.wetGainDb),
  ],
});

const echoSchema = z.strictObject({
  gainIn: z.number().min(0).max(1).default(0.8).describe("input gain, linear 0..1 (sox: gain-in)"),
  gainOut: z.number().min(0).max(10).default(0.88).describe("output gain, linear (sox: gain-out)"),
  delayMs: z
    .number()
    .min(1)
    .max(5000)
    .default(60)
    .describe("delay of the echo, ms (sox: delay; at least one sample)"),
  decay: z
    .number()
    .min(0)
    .max(1)
    .default(0.4)
    .describe("level of the delayed copy, linear 0..1 (sox: decay)"),
});

export const soxEcho = soxEffect({
  name: "echo",
  description:
    "sox echo: one reflection without feedback, out = gainOut * (gainIn * x[n] + decay * x[n - delay]) (24-bit resolution)",
  schema: echoSchema,
  args: (o, audio) => {
    if (Math.trunc((o.delayMs * audio.sampleRate) / 1000) < 1) {
      invalid("sox.echo", `delayMs: ${o.delayMs} ms is less than one sample at ${audio.sampleRate} Hz`);
    }
    return [
      "echo",
      formatNumber(o.gainIn),
      formatNumber(o.gainOut),
      formatNumber(o.delayMs),
      formatNumber(o.decay),
    ];
  },
});

const chorusSchema = z.strictObject({
  gainIn: z.number().min(0).max(1).default(0.7).describe("input gain, linear 0..1 (sox: gain-in)"),
  gainOut: z.number().min(0).max(10).default(0.9).describe("output gain, linear (sox: gain-out)"),
  delayMs: z
    .number()
    .min(20)
    .max(100)
    .default(55)
    .describe("base delay of the voice, ms 20..100 (sox: delay)"),
  decay: z.number().min(0).max(1).default(0.4).describe("voice level relative to gain-in, 0..1 (sox: decay)"),
  speedHz: z.number().min(0.1).max(5).default(0.25).describe("modulation rate, Hz 0.1..5 (sox: speed)"),
  depthMs: z.number().min(0).max(10).default(2).describe("modulation depth, ms 0..10 (sox: depth)"),
  shape: z.enum(shapes).default("triangle").describe("modulation waveform: sine (-s) or triangle (-t)"),
});

export const soxChorus = soxEffect({
  name: "chorus",
  description: "sox chorus: one modulated-delay voice mixed with the dry signal",
  schema: chorusSchema,
  args: (o) => [
    "chorus",
    formatNumber(o.gainIn),
    formatNumber(o.gainOut),
    formatNumber(o.delayMs),
    formatNumber(o.decay),
    formatNumber(o.speedHz),
    formatNumber(o.depthMs),
    o.shape === "sine" ? "-s" : "-t",
  ],
});

const flangerSchema = z.strictObject({
  delayMs: z.number().min(0).max(30).default(0).describe("base delay, ms 0..30 (sox: delay)"),
  depthMs: z.number().min(0).max(10).default(2).describe("added swept delay, ms 0..10 (sox: depth)"),
  regenPercent: z
    .number()
    .min(-95)
    .max(95)
    .default(0)
    .describe("feedback of the delayed signal, % -95..95 (sox: regen)"),
  widthPercent: z
    .number()
    .min(0)
    .max(100)
    .default(71)
    .describe("delayed signal mixed with the original, % 0..100 (sox: width)"),
  speedHz: z.number().min(0.1).max(10).default(0.5).describe("sweeps per second, Hz 0.1..10 (sox: speed)"),
  shape: z.enum(shapes).default("sine").describe("sweep waveform: sine or triangle (sox: shape)"),
  phasePercent: z
    .number()
    .min(0)
    .max(100)
    .default(25)
    .describe("sweep phase offset between channels, % 0..100 (sox: phase)"),
  interpolation: z
    .enum(["linear", "quadratic"])
    .default("linear")
    .describe("delay-line interpolation (sox: interp)"),
});

export const soxFlanger = soxEffect({
  name: "flanger",
  description: "sox flanger: a short swept delay with optional regeneration mixed with the dry signal",
  schema: flangerSchema,
  args: (o) => [
    "flanger",
    formatNumber(o.delayMs),
    formatNumber(o.depthMs),
    formatNumber(o.regenPercent),
    formatNumber(o.widthPercent),
    formatNumber(o.speedHz),
    o.shape,
    formatNumber(o.phasePercent),
    o.interpolation === "linear" ? "lin" : "quad",
  ],
});

const phaserSchema = z.strictObject({
  gainIn: z.number().min(0).max(1).default(0.4).describe("input gain, linear 0..1 (sox: gain-in)"),
  gainOut: z.number().min(0).max(100).default(0.74).describe("output gain, linear (sox: gain-out)"),
  delayMs: z.number().min(0.1).max(5).default(3).describe("delay, ms 0.1..5 (sox: delay)"),
  decay: z
    .number()
    .min(0)
    .max(0.99)
    .default(0.4)
    .describe("feedback, 0..0.99; below 0.5 avoids ringing (sox: decay)"),
  speedHz: z.number().min(0.1).max(2).default(0.5).describe("modulation rate, Hz 0.1..2 (sox: speed)"),
  shape: z.enum(shapes).default("sine").describe("modulation waveform: sine (-s) or triangle (-t)"),
});

export const soxPhaser = soxEffect({
  name: "phaser",
  description: "sox phaser: a modulated delay with feedback mixed with the dry signal",
  schema: phaserSchema,
  args: (o) => [
    "phaser",
    formatNumber(o.gainIn),
    formatNumber(o.gainOut),
    formatNumber(o.delayMs),
    formatNumber(o.decay),
    formatNumber(o.speedHz),
    o.shape === "sine" ? "-s" : "-t",
  ],
});

const tremoloSchema = z.strictObject({
  speedHz: z.number().min(0).max(100).default(5).describe("modulation frequency, Hz (sox: speed)"),
  depthPercent: z
    .number()
    .gt(0)
    .max(100)
    .default(40)
    .describe("modulation depth, % (sox: depth): the gain swings between 1 - depth and 1"),
});

export const soxTremolo = soxEffect({
  name: "tremolo",
  description: "sox tremolo: sine amplitude modulation (the gain swings between 1 - depth and 1)",
  schema: tremoloSchema,
  args: (o, audio) => {
    requireBelowNyquist("sox.tremolo", "speedHz", o.speedHz, audio.sampleRate);
    return ["tremolo", formatNumber(o.speedHz), formatNumber(o.depthPercent)];
  },
});

const equalizerSchema = z.strictObject({
  frequencyHz: z.number().positive().default(1000).describe("centre frequency, Hz (sox: frequency)"),
  width: z.number().positive().default(1).describe("bandwidth, in widthUnit (sox: width)"),
  widthUnit: z
    .enum(equalizerWidthUnits)
    .default("q")
    .describe("unit of width: q (quality factor), octaves, hz or khz"),
  gainDb: z.number().min(-60).max(60).default(6).describe("gain at the centre frequency, dB (sox: gain)"),
});

export const soxEqualizer = soxEffect({
  name: "equalizer",
  description: "sox equalizer: two-pole peaking EQ (RBJ biquad) that boosts or cuts a band by gainDb",
  schema: equalizerSchema,
  args: (o, audio) => {
    requireBelowNyquist("sox.equalizer", "frequencyHz", o.frequencyHz, audio.sampleRate);
    return [
      "equalizer",
      formatNumber(o.frequencyHz),
      widthArgument(o.width, o.widthUnit),
      formatNumber(o.gainDb),
    ];
  },
});

function shelfSchema(defaultFrequencyHz: number, where: string) {
  return z.strictObject({
    gainDb: z
      .number()
      .min(-60)
      .max(60)
      .default(6)
      .describe(`shelf gain ${where}, dB (sox: gain; useful range about -20..20)`),
    frequencyHz: z
      .number()
      .positive()
      .default(defaultFrequencyHz)
      .describe("centre of the shelf's transition, Hz (sox: frequency)"),
    width: z
      .number()
      .positive()
      .default(0.5)
      .describe("steepness of the transition in widthUnit (slope: 0.3 gentle .. 1 steepest)"),
    widthUnit: z
      .enum(shelfWidthUnits)
      .default("slope")
      .describe("unit of width: slope (sox's default), q, octaves, hz or khz"),
  });
}

function shelfArgs(
  effect: "bass" | "treble",
  o: { gainDb: number; frequencyHz: number; width: number; widthUnit: (typeof shelfWidthUnits)[number] },
  audio: Audio,
): string[] {
  requireBelowNyquist(`sox.${effect}`, "frequencyHz", o.frequencyHz, audio.sampleRate);
  if (o.widthUnit === "slope" && o.width > 1) {
    invalid(`sox.${effect}`, `width: a slope must be in (0, 1], got ${o.width}`);
  }
  return [effect, formatNumber(o.gainDb), formatNumber(o.frequencyHz), widthArgument(o.width, o.widthUnit)];
}

export const soxBass = soxEffect({
  name: "bass",
  description: "sox bass: two-pole low-shelf tone control (gain at 0 Hz)",
  schema: shelfSchema(100, "at 0 Hz"),
  args: (o, audio) => shelfArgs("bass", o, audio),
});

export const soxTreble = soxEffect({
  name: "treble",
  description: "sox treble: two-pole high-shelf tone control (gain towards Nyquist / 22 kHz)",
  schema: shelfSchema(3000, "towards the top of the band"),
  args: (o, audio) => shelfArgs("treble", o, audio),
});

/** Every sox effect, in the order `deepsp effects list` shows them. */
export const soxEffects: readonly AnyEffect[] = [
  soxOverdrive,
  soxCompand,
  soxReverb,
  soxEcho,
  soxChorus,
  soxFlanger,
  soxPhaser,
  soxTremolo,
  soxEqualizer,
  soxBass,
  soxTreble,
];
