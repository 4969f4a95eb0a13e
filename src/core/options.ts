import type { z } from "zod";
import { OptionError } from "./errors.ts";

/**
 * Validates `input` against a strict zod object schema at a public boundary and returns the parsed options
 * with defaults filled in. On failure throws one OptionError whose message names every bad field, what
 * was expected and what came, and lists the valid option names when an unknown one was given:
 *   sweep options: startHz: expected number > 0, got -1; unknown option "foo" (valid: startHz, endHz, ...)
 */
export function parseOptions<S extends z.ZodObject>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const valid = Object.keys(schema.shape).join(", ");
  const problems = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const names = issue.keys.map((key) => `"${key}"`).join(", ");
      return `unknown option ${names} (valid: ${valid})`;
    }
    const field = issue.path.join(".") || "(options)";
    const got = valueAt(input, issue.path);
    const message = issue.message.replace(/^Invalid input: /, "").replace(/^Too (small|big): /, "");
    return `${field}: ${message}${got === undefined ? "" : `, got ${JSON.stringify(got)}`}`;
  });
  throw new OptionError("options/invalid", `${what}: ${problems.join("; ")}`);
}

/** The value at a zod issue path inside `input` (undefined where the path leads nowhere). */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
