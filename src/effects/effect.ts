import type { z } from "zod";
import type { Audio } from "../audio/audio.ts";

/** Where an effect's samples come from. */
export type Engine = "builtin" | "webaudio" | "sox" | "lv2" | "ffmpeg";

/** Parameter values as they appear in a chain string: numbers, names and booleans. */
export type ParameterValue = number | string | boolean;
export type Parameters = Record<string, ParameterValue>;

export interface RenderResult {
  /** Same sample rate, channel count and length as the input. */
  audio: Audio;
  /**
   * Samples by which the output lags the input because of the effect's processing (oversampling filters,
   * codec delay), not its character (an echo's delay is the effect, not latency). Alignment removes it.
   */
  latencySamples: number;
}

/**
 * One effect: a name, typed parameters (a strict zod schema: unknown or out-of-range parameters are rejected
 * with the valid ones listed; every field has a default and a .describe() with units), and a renderer.
 * Output has the input's length: tails past the end (reverb, echo) are cut, so give material a silent end.
 */
export interface Effect<S extends z.ZodObject = z.ZodObject> {
  /** Unique across engines; external engines prefix theirs ("sox.overdrive", "lv2.ts9", "ffmpeg.gsm"). */
  name: string;
  engine: Engine;
  /** One line for `deepsp effects list`. */
  description: string;
  schema: S;
  /** `parameters` are already validated and complete (defaults filled). */
  render(audio: Audio, parameters: z.output<S>): Promise<RenderResult>;
  /** External engines: undefined when usable here, else one line naming what to install. */
  unavailableReason?(): Promise<string | undefined>;
}

/** Type-erased form for registries (a list of effects of different schemas). */
export type AnyEffect = Effect<z.ZodObject>;

/** Helper so each effect file keeps its schema's types while the registry holds AnyEffect. */
export function defineEffect<S extends z.ZodObject>(effect: Effect<S>): AnyEffect {
  return effect as unknown as AnyEffect;
}
