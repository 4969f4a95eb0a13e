import type { Audio } from "../audio/audio.ts";
import { OptionError } from "../core/errors.ts";
import { parseOptions } from "../core/options.ts";
import type { AnyEffect, Parameters, ParameterValue } from "./effect.ts";

/** One step of a chain: an effect name and its parameters as given (validated against the effect on use). */
export interface ChainStep {
  effect: string;
  parameters: Parameters;
}

/** A serial chain of effects; the JSON form of a chain string. */
export type Chain = ChainStep[];

/**
 * Parses `lowpass(cutoffHz=800) | drive(gainDb=20) | reverb(room=small)`: steps separated by "|", each a
 * name with optional `(key=value, ...)`; values are numbers, true/false, or bare / quoted words.
 * Throws OptionError pointing at the problem.
 */
export function parseChain(text: string): Chain {
  const steps = splitOutsideQuotes(text, "|").map((part) => part.trim());
  if (steps.some((step) => step === "")) throw chainError(text, "an empty step (check the | separators)");
  return steps.map((step) => {
    const match = /^([A-Za-z][\w.-]*)\s*(?:\((.*)\))?$/s.exec(step);
    if (!match) throw chainError(text, `"${step}" is not name(key=value, ...)`);
    const parameters: Parameters = {};
    const body = match[2]?.trim() ?? "";
    if (body !== "") {
      for (const assignment of splitOutsideQuotes(body, ",")) {
        const pair = /^([A-Za-z]\w*)\s*=\s*(.+)$/s.exec(assignment.trim());
        if (!pair) throw chainError(text, `"${assignment.trim()}" in ${match[1]} is not key=value`);
        if (pair[1]! in parameters) throw chainError(text, `${match[1]} sets ${pair[1]} twice`);
        parameters[pair[1]!] = parseValue(pair[2]!.trim());
      }
    }
    return { effect: match[1]!, parameters };
  });
}

/** The canonical chain string: steps in order, parameters in the order given, shortest value spellings. */
export function formatChain(chain: Chain): string {
  return chain
    .map(({ effect, parameters }) => {
      const entries = Object.entries(parameters);
      if (entries.length === 0) return effect;
      return `${effect}(${entries.map(([key, value]) => `${key}=${formatValue(value)}`).join(", ")})`;
    })
    .join(" | ");
}

/** A chain with every step's parameters validated and completed by its effect's schema. */
export interface ResolvedStep {
  effect: AnyEffect;
  parameters: Record<string, unknown>;
}

/**
 * Looks every step up in `effects` and validates its parameters (unknown names and bad values are
 * OptionErrors listing the valid parameters). Returns the steps with defaults filled in.
 */
export function resolveChain(chain: Chain, effects: readonly AnyEffect[]): ResolvedStep[] {
  return chain.map((step, index) => {
    const effect = effects.find((candidate) => candidate.name === step.effect);
    if (!effect) {
      throw new OptionError(
        "effects/unknown",
        `unknown effect "${step.effect}" (step ${index + 1}); known: ${effects.map((e) => e.name).join(", ")}`,
      );
    }
    return { effect, parameters: parseOptions(effect.schema, step.parameters, `${effect.name} parameters`) };
  });
}

/** The chain with each step's complete parameters, as recorded with a pair or model (provenance). */
export function resolvedChain(steps: readonly ResolvedStep[]): Chain {
  return steps.map(({ effect, parameters }) => ({
    effect: effect.name,
    parameters: parameters as Parameters,
  }));
}

/**
 * Renders a chain in order. The latencies of the steps add up; the result has the input's length.
 * External engines are checked first, so a missing tool fails before any work is done.
 */
export async function renderChain(
  audio: Audio,
  steps: readonly ResolvedStep[],
): Promise<{ audio: Audio; latencySamples: number }> {
  for (const { effect } of steps) {
    const reason = await effect.unavailableReason?.();
    if (reason) throw new OptionError("effects/unavailable", `${effect.name}: ${reason}`);
  }
  let current = audio;
  let latencySamples = 0;
  for (const { effect, parameters } of steps) {
    const result = await effect.render(current, parameters);
    current = result.audio;
    latencySamples += result.latencySamples;
  }
  return { audio: current, latencySamples };
}

function parseValue(text: string): ParameterValue {
  if (/^'.*'$/s.test(text)) return text.slice(1, -1);
  if (/^".*"$/s.test(text)) {
    try {
      return JSON.parse(text) as string; // double quotes may carry JSON escapes
    } catch {
      return text.slice(1, -1);
    }
  }
  if (text === "true") return true;
  if (text === "false") return false;
  const number = Number(text);
  if (text !== "" && Number.isFinite(number)) return number;
  return text;
}

/** Bare words stay bare; other strings are quoted so parseValue gives them back unchanged. */
function formatValue(value: ParameterValue): string {
  if (typeof value !== "string") return String(value);
  const bare = /^[A-Za-z_][\w.-]*$/.test(value) && value !== "true" && value !== "false";
  if (bare) return value;
  return value.includes("'") ? JSON.stringify(value) : `'${value}'`;
}

/** Splits on `separator` where it is outside quotes ("a=1, b='x, y'" -> two parts; a quoted "|" stays). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (const character of text) {
    if (quote) {
      if (character === quote) quote = null;
    } else if (character === '"' || character === "'") {
      quote = character;
    } else if (character === separator) {
      parts.push(current);
      current = "";
      continue;
    }
    current += character;
  }
  parts.push(current);
  return parts;
}

function chainError(text: string, problem: string): OptionError {
  return new OptionError("effects/chain", `effect chain "${text}": ${problem}`);
}
