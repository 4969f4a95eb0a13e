import { NamError } from "./file.ts";

/*
 * Field checks for .nam configs, shared by the converters (src/io/nam/linear.ts, lstm.ts) and the player
 * (src/io/nam/dsp). Codes: "nam/config" for a malformed value, "nam/unsupported" for a valid NAM feature that
 * the reader cannot express (src/io/import.ts routes on it: such a file may still play in NAM's own player).
 */

/**
 * One JSON object of a .nam config, read field by field. Every field the player reads, or skips because NAM core
 * ignores it, is marked; finish() throws for any other field, so a field that could change the output is never
 * ignored silently. Messages name the field by its path: "amp.nam: config.layers[1].kernel_size".
 */
export class ConfigFields {
  private readonly seen = new Set<string>();

  private constructor(
    private readonly value: Record<string, unknown>,
    /** The object's path, e.g. "amp.nam: config.layers[1]". */
    readonly path: string,
  ) {}

  static of(value: unknown, path: string): ConfigFields {
    if (!isObject(value)) throw configError(path, "an object", value);
    return new ConfigFields(value, path);
  }

  /** Whether the field is present (null counts as absent: NAM core tests `is_null()` where it allows null). */
  has(key: string): boolean {
    const value = this.value[key];
    return value !== undefined && value !== null;
  }

  /** Whether the key is there at all (NAM core's `find(key) != end()`). */
  present(key: string): boolean {
    return this.value[key] !== undefined;
  }

  /** The field's raw value (undefined when absent), marked as read. */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.value[key];
  }

  /** A whole number >= `min`; `fallback` when absent (required when there is none). */
  int(key: string, fallback?: number, min = 1): number {
    const value = this.raw(key);
    if (value === undefined && fallback !== undefined) return fallback;
    if (!(typeof value === "number" && Number.isInteger(value) && value >= min)) {
      throw configError(this.at(key), `a whole number >= ${min}`, value);
    }
    return value;
  }

  bool(key: string, fallback?: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "boolean") throw configError(this.at(key), "true or false", value);
    return value;
  }

  /** A finite number, as NAM core reads it: rounded to float32. */
  float(key: string, fallback?: number): number {
    const value = this.raw(key);
    if (value === undefined && fallback !== undefined) return fallback;
    if (!(typeof value === "number" && Number.isFinite(value)))
      throw configError(this.at(key), "a number", value);
    return Math.fround(value);
  }

  string(key: string): string {
    const value = this.raw(key);
    if (typeof value !== "string") throw configError(this.at(key), "a string", value);
    return value;
  }

  /** A non-empty array of whole numbers >= `min`. */
  ints(key: string, min = 1): number[] {
    const value = this.array(key);
    if (value.length === 0) throw configError(this.at(key), "a non-empty array", value);
    value.forEach((item, i) => {
      if (!(typeof item === "number" && Number.isInteger(item) && item >= min)) {
        throw configError(`${this.at(key)}[${i}]`, `a whole number >= ${min}`, item);
      }
    });
    return value as number[];
  }

  array(key: string): unknown[] {
    const value = this.raw(key);
    if (!Array.isArray(value)) throw configError(this.at(key), "an array", value);
    return value;
  }

  /** A nested object's fields. */
  object(key: string): ConfigFields {
    return ConfigFields.of(this.raw(key), this.at(key));
  }

  /** Marks fields NAM core reads past without using (the reason is for the reader of the call). */
  skip(...keys: string[]): void {
    for (const key of keys) this.seen.add(key);
  }

  /** The path of a field of this object. */
  at(key: string): string {
    return `${this.path}.${key}`;
  }

  /**
   * The converters' check, before anything is read: refuses fields outside `known`, listing them (a newer NAM
   * feature deepsp does not know could change the output).
   */
  refuseUnknown(known: readonly string[]): void {
    const extra = Object.keys(this.value).filter((key) => !known.includes(key));
    if (extra.length > 0) {
      throw new NamError(
        "nam/unsupported",
        `${this.path}: unsupported field(s) ${extra.map((key) => `"${key}"`).join(", ")} (known: ${known.join(", ")})`,
      );
    }
  }

  /** Throws for a field nothing read or skipped. */
  finish(): void {
    const unknown = Object.keys(this.value).filter((key) => !this.seen.has(key));
    if (unknown.length > 0) {
      throw new NamError(
        "nam/unsupported",
        `${this.at(unknown[0]!)}: unsupported field${unknown.length > 1 ? ` (also: ${unknown.slice(1).join(", ")})` : ""}: the player does not know what it does, so it cannot play the model as NAM core would`,
      );
    }
  }
}

/**
 * `in_channels` / `out_channels` (NAM core 0.4+, .nam 0.6+): absent or 1. deepsp's .nam models are mono, as
 * every .nam 0.5 file is.
 */
export function requireMono(fields: ConfigFields): void {
  for (const key of ["in_channels", "out_channels"]) {
    const channels = fields.int(key, 1);
    if (channels !== 1) {
      throw new NamError(
        "nam/unsupported",
        `${fields.at(key)}: ${channels}: deepsp imports mono .nam models only (1 channel in and out)`,
      );
    }
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `path`: expected <what>, got <value> (a short JSON rendering). */
export function configError(path: string, expected: string, value: unknown): NamError {
  const text = value === undefined ? "nothing (the field is missing)" : JSON.stringify(value);
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return new NamError("nam/config", `${path}: expected ${expected}, got ${shown}`);
}

/** A config that NAM core rejects or that the player cannot play; the message says why. */
export function invalid(path: string, message: string): NamError {
  return new NamError("nam/config", `${path}: ${message}`);
}

/** NAM core's Conv1x1 / Conv1D constructors: both channel counts must divide by the groups. */
export function checkGroups(path: string, groups: number, inChannels: number, outChannels: number): void {
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw invalid(
      path,
      `${groups} groups do not divide a convolution of ${inChannels} -> ${outChannels} channels`,
    );
  }
}
