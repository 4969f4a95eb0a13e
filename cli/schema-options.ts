import { type Command, Option } from "commander";
import type { z } from "zod";

/**
 * Turns the fields of a strict zod object schema (a material kind's or an effect's options) into
 * `--kebab-case` flags, so the library's schema is the one place options, defaults and help text live.
 * Defaults are shown in the help but not set in commander: only flags the user typed reach the schema,
 * which fills in its own defaults and reports bad values naming the field.
 */
export function addSchemaOptions(command: Command, schema: z.ZodObject): void {
  for (const [name, field] of Object.entries(schema.shape)) {
    const info = describeField(field as z.ZodType);
    const flag = `--${kebab(name)}`;
    const defaultText = info.default === undefined ? "" : ` (default: ${JSON.stringify(info.default)})`;
    const description = `${info.description ?? name}${defaultText}`;
    if (info.type === "boolean") {
      command.addOption(new Option(flag, description));
      if (info.default === true) command.addOption(new Option(`--no-${kebab(name)}`, `turn off ${flag}`));
      continue;
    }
    const option = new Option(`${flag} <${info.type === "array" ? "list" : "value"}>`, description);
    if (info.choices) option.choices(info.choices);
    command.addOption(option);
  }
}

/** Converts the parsed flag strings back to typed values for the schema (numbers, lists); unknown keys ignored. */
export function schemaValues(schema: z.ZodObject, parsed: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const raw = parsed[name];
    if (raw === undefined) continue;
    const info = describeField(field as z.ZodType);
    if (info.type === "array" && typeof raw === "string") {
      values[name] = raw.split(",").map((item) => convert(item.trim(), info.elementType));
    } else {
      values[name] = typeof raw === "string" ? convert(raw, info.type) : raw;
    }
  }
  return values;
}

export interface FieldInfo {
  type: string;
  elementType?: string;
  description?: string;
  default?: unknown;
  choices?: string[];
  /** Numbers: the schema's bounds, when finite. */
  min?: number;
  max?: number;
}

/** Every field of a strict object schema, described for listings (`deepsp effects list`). */
export function describeSchema(schema: z.ZodObject): ({ name: string } & FieldInfo)[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    ...describeField(field as z.ZodType),
  }));
}

function describeField(field: z.ZodType): FieldInfo {
  let description = field.description;
  let defaultValue: unknown;
  let inner = field;
  // Unwrap default/optional/nullable wrappers, keeping the outermost description and the default.
  for (;;) {
    const def = inner.def as { type: string; innerType?: z.ZodType; defaultValue?: unknown };
    if (def.type === "default") defaultValue = def.defaultValue;
    if (!["default", "optional", "nullable", "prefault"].includes(def.type) || !def.innerType) break;
    inner = def.innerType;
    description ??= inner.description;
  }
  const def = inner.def as {
    type: string;
    element?: z.ZodType;
    options?: z.ZodType[];
    entries?: Record<string, string>;
  };
  const info: FieldInfo = { type: def.type, description, default: defaultValue };
  if (def.type === "enum" && def.entries) info.choices = Object.values(def.entries).map(String);
  if (def.type === "array" && def.element) info.elementType = describeField(def.element).type;
  if (def.type === "union" && def.options) {
    const literals = def.options.flatMap((option) => (option.def as { values?: unknown[] }).values ?? []);
    if (literals.length === def.options.length) {
      info.choices = literals.map(String);
      info.type = literals.every((value) => typeof value === "number") ? "number" : "string";
    }
  }
  if (def.type === "literal") info.type = typeof (def as { values?: unknown[] }).values?.[0];
  if (def.type === "number") {
    const { minValue, maxValue } = inner as unknown as { minValue: number | null; maxValue: number | null };
    if (minValue !== null && Number.isFinite(minValue) && Math.abs(minValue) < 2 ** 52) info.min = minValue;
    if (maxValue !== null && Number.isFinite(maxValue) && Math.abs(maxValue) < 2 ** 52) info.max = maxValue;
  }
  return info;
}

/** Numbers become numbers when they parse; anything else stays a string for the schema to reject by name. */
function convert(text: string, type: string | undefined): unknown {
  if (type === "number" && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  return text;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
