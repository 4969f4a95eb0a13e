import {
  formatAggregateEsr,
  formatCount,
  formatEsr,
  formatFactor,
  formatSeconds,
  formatTimeToQuality,
  GRADE_MARKS,
  type Grade,
  gradeLegend,
  type Pairing,
  pairings,
  type ResultsFile,
} from "./results.ts";

/**
 * `results.md`: an overview (test ESR, effect x material pairings by architecture, marked by grade), then
 * one table per pairing with the architectures as columns and the identity (input passed through) alongside:
 * test ESR, validation ESR, time to quality, epochs, training time, parameters, real-time factor.
 */
export function resultsMarkdown(results: ResultsFile): string {
  const { config, counts, limits } = results;
  const architectures = config.architectures.map((a) => a.name);
  const lines: string[] = [];
  lines.push(`# ${escapeMarkdown(config.name)}`, "");
  if (config.description) lines.push(escapeMarkdown(config.description), "");
  const quick =
    limits.epochs < config.budget.epochs ||
    limits.seconds < config.budget.seconds ||
    limits.materialSeconds !== null;
  lines.push(
    `Budget per training: ${limits.epochs} epochs or ${formatSeconds(limits.seconds)}, whichever ends first` +
      (quick
        ? ` (a reduced run: the config asks for ${config.budget.epochs} epochs or ${formatSeconds(config.budget.seconds)}` +
          (limits.materialSeconds === null ? "" : `, material cut to ${limits.materialSeconds} s`) +
          ")"
        : "") +
      `. Quality threshold: validation ESR < ${formatEsr(config.qualityEsr)}. ` +
      `Cells: ${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed, ${counts.pending} pending.`,
    "",
  );

  const groups = pairings(results);
  lines.push("## Test ESR", "");
  lines.push(
    row(["effect: train → test", "identity", ...architectures.map(escapeMarkdown)]),
    row(["---", ...Array(architectures.length + 1).fill("---:")]),
  );
  for (const pairing of groups) {
    lines.push(
      row([
        escapeMarkdown(pairing.label),
        formatEsr(pairing.identityEsr),
        ...pairing.architectures.map((aggregate) =>
          aggregate.grade === null
            ? statusWord(aggregate)
            : `${GRADE_MARKS[aggregate.grade]} ${formatEsr(aggregate.testEsr)}`,
        ),
      ]),
    );
  }
  lines.push("");
  const legend = gradeLegend(config.qualityEsr);
  lines.push(
    (Object.keys(legend) as Grade[])
      .map((key) => `${GRADE_MARKS[key]} ${escapeMarkdown(legend[key])}`)
      .join(" · "),
    "",
  );

  for (const pairing of groups) lines.push(...pairingSection(pairing, architectures, config.qualityEsr), "");
  return `${lines.join("\n").trimEnd()}\n`;
}

function pairingSection(pairing: Pairing, architectures: string[], qualityEsr: number): string[] {
  const lines = [`## ${escapeMarkdown(pairing.label)}`, ""];
  if (pairing.description) lines.push(escapeMarkdown(pairing.description), "");
  if (pairing.chain) lines.push(`Effect chain: \`${pairing.chain.replace(/`/g, "'")}\``, "");
  const a = pairing.architectures;
  const metric = (name: string, identity: string, values: string[]) => row([name, identity, ...values]);
  lines.push(
    row(["", "identity", ...architectures.map(escapeMarkdown)]),
    row(["---", ...Array(architectures.length + 1).fill("---:")]),
    metric(
      "test ESR",
      formatEsr(pairing.identityEsr),
      a.map((x) => escapeMarkdown(x.testEsr === null ? statusWord(x) : formatAggregateEsr(x))),
    ),
    metric(
      "grade",
      "",
      a.map((x) => (x.grade === null ? "" : GRADE_MARKS[x.grade])),
    ),
    metric(
      "validation ESR",
      "",
      a.map((x) => formatEsr(x.validationEsr)),
    ),
    metric(
      `time to validation ESR < ${formatEsr(qualityEsr)}`,
      "",
      a.map((x) => escapeMarkdown(formatTimeToQuality(x))),
    ),
    metric(
      "epochs",
      "",
      a.map((x) => formatCount(x.epochs)),
    ),
    metric(
      "training time",
      "",
      a.map((x) => formatSeconds(x.trainingSeconds)),
    ),
    metric(
      "parameters",
      "",
      a.map((x) => formatCount(x.parameters)),
    ),
    metric(
      "real-time factor",
      "",
      a.map((x) => formatFactor(x.realTimeFactor)),
    ),
  );
  // Skipped and failed cells, grouped by reason: "- linear-256, lstm-16: skipped: fluidsynth is not installed".
  const groups = new Map<string, string[]>();
  for (const x of a) {
    for (const note of x.notes) {
      if (note.status === "pending") continue;
      const key = `${note.status}: ${escapeMarkdown(note.reason)}`;
      const who = `${escapeMarkdown(x.architecture)}${x.cells.length > 1 ? ` (seed ${note.seeds.join(", ")})` : ""}`;
      groups.set(key, [...(groups.get(key) ?? []), who]);
    }
  }
  if (groups.size > 0) lines.push("", ...[...groups].map(([key, who]) => `- ${who.join(", ")}: ${key}`));
  return lines;
}

function statusWord(aggregate: { cells: { status: string }[] }): string {
  const statuses = new Set(aggregate.cells.map((cell) => cell.status));
  if (statuses.size === 0) return "–";
  return [...statuses].join("/");
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** Text safe inside a Markdown table cell: pipes, backslashes, HTML and line breaks neutralised. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/<(?=[A-Za-z/!?])/g, "&lt;")
    .replace(/([*_`[\]])/g, "\\$1")
    .replace(/\s*[\r\n]+\s*/g, " ");
}
