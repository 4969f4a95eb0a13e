import { NamError } from "./file.ts";

/**
 * Field checks shared by the .nam Linear and LSTM readers. `where` names the file and the field's parent
 * ("amp.nam: config"). Codes: "nam/config" for a malformed value, "nam/unsupported" for a valid NAM feature
 * that a deepsp model cannot express (such a file plays only in NAM's own player).
 */

/** Refuses fields outside `known` (a newer NAM feature deepsp does not know could change the output). */
export function refuseUnknownFields(
  config: Record<string, unknown>,
  known: readonly string[],
  where: string,
): void {
  const extra = Object.keys(config).filter((key) => !known.includes(key));
  if (extra.length > 0) {
    throw new NamError(
      "nam/unsupported",
      `${where}: unsupported field(s) ${extra.map((key) => `"${key}"`).join(", ")} (known: ${known.join(", ")})`,
    );
  }
}

/** A whole number >= `min`. */
export function wholeField(config: Record<string, unknown>, field: string, where: string, min = 1): number {
  const value = config[field];
  if (!(typeof value === "number" && Number.isInteger(value) && value >= min)) {
    throw new NamError(
      "nam/config",
      `${where}.${field}: expected a whole number >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * `in_channels` / `out_channels` (NAM core 0.4+, .nam 0.6+): absent or 1. deepsp's .nam models are mono, as
 * every .nam 0.5 file is.
 */
export function requireMono(config: Record<string, unknown>, where: string): void {
  for (const field of ["in_channels", "out_channels"]) {
    const value = config[field];
    if (value === undefined || value === 1) continue;
    throw new NamError(
      typeof value === "number" && Number.isInteger(value) && value > 1 ? "nam/unsupported" : "nam/config",
      `${where}.${field}: ${JSON.stringify(value)}: deepsp imports mono .nam models only (1 channel in and out)`,
    );
  }
}
