/** Shared printing helpers for the CLI commands. */

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** "12.345 s" */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(3)} s`;
}

/** A left-aligned text table: the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function warn(message: string): void {
  console.error(`warning: ${message}`);
}
