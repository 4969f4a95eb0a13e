import { z } from "zod";
import { type Audio, makeAudio } from "../audio/audio.ts";
import { parseOptions } from "../core/options.ts";
import { sweep } from "../signals/sweeps.ts";

/**
 * The study's training material: exponential sweeps of a sine, a square and a sawtooth, one after another
 * (the study recorded its sine and square sweeps through each effect and trained on those). Each sweep gets
 * an equal share of `seconds`, band-limited and faded in and out by the sweep generator, so the joins do
 * not click.
 */
export const studySweepsSchema = z.strictObject({
  sampleRate: z.number().int().min(8000).max(384000).default(48000).describe("sample rate in Hz"),
  seconds: z.number().positive().max(3600).default(30).describe("total length in seconds (all sweeps)"),
  amplitude: z.number().positive().max(1).default(0.5).describe("peak level of each sweep, linear"),
  channels: z.number().int().min(1).max(2).default(1).describe("1 (mono) or 2 (identical copies)"),
  waveforms: z
    .array(z.enum(["sine", "triangle", "square", "sawtooth"]))
    .min(1)
    .default(["sine", "square", "sawtooth"])
    .describe("the sweeps, in order"),
  startHz: z.number().positive().default(20).describe("frequency at each sweep's start, Hz"),
  endHz: z
    .number()
    .positive()
    .optional()
    .describe("frequency at each sweep's end, Hz (default 20000, capped at 0.45 x sampleRate)"),
});

export type StudySweepsOptions = z.input<typeof studySweepsSchema>;

export function studySweeps(options: StudySweepsOptions = {}): Audio {
  const o = parseOptions(studySweepsSchema, options, "sweeps options");
  const total = Math.round(o.seconds * o.sampleRate);
  const parts = o.waveforms.map((waveform, index) => {
    // Whole samples per sweep that add up to the total exactly.
    const start = Math.round((index * total) / o.waveforms.length);
    const end = Math.round(((index + 1) * total) / o.waveforms.length);
    return sweep({
      waveform,
      mode: "exponential",
      sampleRate: o.sampleRate,
      seconds: (end - start) / o.sampleRate,
      amplitude: o.amplitude,
      startHz: o.startHz,
      ...(o.endHz === undefined ? {} : { endHz: o.endHz }),
    }).channels[0]!;
  });
  const mono = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    mono.set(part, offset);
    offset += part.length;
  }
  return makeAudio(
    o.sampleRate,
    Array.from({ length: o.channels }, (_, c) => (c === 0 ? mono : mono.slice())),
  );
}
