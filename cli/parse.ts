import { OptionError } from "../src/core/errors.ts";
import type { PairOptions } from "../src/data/pair.ts";

/** Parses a number flag, with a message naming the flag. */
export function number(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new OptionError("options/invalid", `${flag} must be a number, got "${text}"`);
  }
  return value;
}

/** Parses a whole-number flag >= minimum, with a message naming the flag. */
export function integer(text: string, flag: string, minimum: number): number {
  const value = number(text, flag);
  if (!Number.isInteger(value) || value < minimum) {
    throw new OptionError("options/invalid", `${flag} must be a whole number >= ${minimum}, got "${text}"`);
  }
  return value;
}

/** The --align flag: "detect", "none", or a whole number of samples. */
export function parseAlign(text: string): PairOptions["align"] {
  if (text === "detect" || text === "none") return text;
  const samples = Number(text);
  if (text.trim() === "" || !Number.isInteger(samples)) {
    throw new OptionError(
      "options/invalid",
      `--align must be "detect", "none" or a whole number of samples, got "${text}"`,
    );
  }
  return samples;
}

/** Parses a JSON flag value, with a message naming the flag. */
export function parseJson(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new OptionError("options/invalid", `${flag} is not valid JSON: ${(error as Error).message}`);
  }
}
