import {
  type Aggregate,
  formatAggregateEsr,
  formatCount,
  formatEsr,
  formatFactor,
  formatSeconds,
  formatTimeToQuality,
  GRADE_MARKS,
  type Grade,
  gradeLegend,
  median,
  pairings,
  type ResultsFile,
} from "./results.ts";

/**
 * `summary.html`: one self-contained page (inline CSS, no scripts, no external files): a heatmap of test ESR
 * (effects x architectures, log colour scale, marked by grade), time-to-quality, parameter counts and
 * real-time factors. Every string from the config or a cell (names, chains, error messages) is escaped.
 */

/** Colour scale bounds: ESR 1e-4 and below is green, 1 and above red, log-linear hue in between. */
export const ESR_COLOUR_LOW = 1e-4;
export const ESR_COLOUR_HIGH = 1;

/** Background colour for a test ESR: hue 120 (green) at 1e-4 down to 0 (red) at 1, linear in log10(ESR). */
export function esrColour(esr: number | null): string {
  if (esr === null || Number.isNaN(esr)) return "#e4e4e4";
  if (esr <= 0) return esrColour(ESR_COLOUR_LOW);
  const low = Math.log10(ESR_COLOUR_LOW);
  const high = Math.log10(ESR_COLOUR_HIGH);
  const t = Math.min(1, Math.max(0, (Math.log10(esr) - low) / (high - low)));
  return `hsl(${Math.round(120 * (1 - t))}, 65%, 72%)`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
td.esr { font-variant-numeric: tabular-nums; }
td.missing { color: #777; background: #f2f2f2; font-style: italic; }
.mark { font-weight: bold; margin-right: 0.3em; }
.worse { outline: 2px solid #b00; outline-offset: -3px; }
.legend span { display: inline-block; margin-right: 1.2em; }
.scale { display: inline-block; width: 16em; height: 0.9em; vertical-align: middle; border: 1px solid #aaa; }
.note { color: #555; }
code { background: #f4f4f4; padding: 0 0.2em; }
`;

export function summaryHtml(results: ResultsFile): string {
  const { config, counts, limits } = results;
  const groups = pairings(results);
  const architectures = config.architectures.map((a) => a.name);
  const e = escapeHtml;
  const header = `<tr><th>effect: train → test</th><th>identity</th>${architectures.map((a) => `<th>${e(a)}</th>`).join("")}</tr>`;
  const esrCell = (aggregate: Aggregate) => {
    if (aggregate.testEsr === null) {
      const title = aggregate.notes.map((note) => `${note.status}: ${note.reason}`).join("\n");
      const word = aggregate.notes[0]?.status ?? "–";
      return `<td class="missing" title="${e(title)}">${e(word)}</td>`;
    }
    const grade = aggregate.grade!;
    const title = [
      `test ESR ${formatAggregateEsr(aggregate)}`,
      `validation ESR ${formatEsr(aggregate.validationEsr)}`,
      `${formatCount(aggregate.epochs)} epochs in ${formatSeconds(aggregate.trainingSeconds)}`,
    ].join("\n");
    return (
      `<td class="esr${grade === "worse" ? " worse" : ""}" style="background:${esrColour(aggregate.testEsr)}" title="${e(title)}">` +
      `<span class="mark">${GRADE_MARKS[grade]}</span>${e(formatEsr(aggregate.testEsr))}</td>`
    );
  };
  const heatmap = groups
    .map(
      (pairing) =>
        `<tr><td title="${e(pairing.chain ?? "recorded data")}">${e(pairing.label)}</td>` +
        `<td class="esr" style="background:${esrColour(pairing.identityEsr)}">${e(formatEsr(pairing.identityEsr))}</td>` +
        pairing.architectures.map(esrCell).join("") +
        "</tr>",
    )
    .join("\n");
  const simpleTable = (format: (aggregate: Aggregate) => string) =>
    groups
      .map(
        (pairing) =>
          `<tr><td>${e(pairing.label)}</td><td></td>${pairing.architectures
            .map((aggregate) => `<td>${e(format(aggregate))}</td>`)
            .join("")}</tr>`,
      )
      .join("\n");
  const perArchitecture = (pick: (aggregate: Aggregate) => number | null) =>
    architectures.map((_, index) =>
      median(
        groups
          .map((pairing) => pick(pairing.architectures[index]!))
          .filter((value): value is number => value !== null),
      ),
    );
  const parameters = perArchitecture((a) => a.parameters);
  const factors = perArchitecture((a) => a.realTimeFactor);
  const legend = gradeLegend(config.qualityEsr);
  const stops = [-4, -3, -2, -1, 0].map((x, i) => `${esrColour(10 ** x)} ${i * 25}%`).join(", ");
  const chains = groups
    .filter((pairing) => pairing.chain)
    .map((pairing) => `<li>${e(pairing.effect)}: <code>${e(pairing.chain!)}</code></li>`);
  const uniqueChains = [...new Set(chains)];
  const notes = groups.flatMap((pairing) =>
    pairing.architectures.flatMap((aggregate) =>
      aggregate.notes
        .filter((note) => note.status !== "pending")
        .map(
          (note) =>
            `<li>${e(pairing.label)}, ${e(aggregate.architecture)}: ${e(note.status)}: ${e(note.reason)}</li>`,
        ),
    ),
  );

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${e(config.name)}: deepsp experiment</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${e(config.name)}</h1>
${config.description ? `<p>${e(config.description)}</p>` : ""}
<p class="note">Budget per training: ${limits.epochs} epochs or ${e(formatSeconds(limits.seconds))}, whichever ends first${
    limits.materialSeconds === null ? "" : `; material cut to ${limits.materialSeconds} s`
  }. Quality threshold: validation ESR &lt; ${e(formatEsr(config.qualityEsr))}. Cells: ${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed, ${counts.pending} pending. Written ${e(results.createdAt)}.</p>

<h2>Test ESR</h2>
<p class="note">Error-to-signal ratio of each trained network on the test material (lower is better; median over seeds), next to passing the input through unchanged (identity). Colour: log scale from ESR ${formatEsr(ESR_COLOUR_LOW)} <span class="scale" style="background: linear-gradient(to right, ${stops})"></span> ${formatEsr(ESR_COLOUR_HIGH)}.</p>
<table>
${header}
${heatmap}
</table>
<p class="legend">${(Object.keys(legend) as Grade[])
    .map((key) => `<span><span class="mark">${GRADE_MARKS[key]}</span>${e(legend[key])}</span>`)
    .join("")}</p>

<h2>Time to quality</h2>
<p class="note">Training seconds until the validation ESR first fell below ${e(formatEsr(config.qualityEsr))} ("never": not within the budget).</p>
<table>
${header}
${simpleTable(formatTimeToQuality)}
</table>

<h2>Size and speed</h2>
<p class="note">Parameters, and the real-time factor of the streaming runtime on the test material (compute seconds per second of mono audio, block 64; below 1 runs in real time; measured while other cells trained alongside).</p>
<table>
<tr><th></th>${architectures.map((a) => `<th>${e(a)}</th>`).join("")}</tr>
<tr><td>parameters</td>${parameters.map((p) => `<td>${e(formatCount(p))}</td>`).join("")}</tr>
<tr><td>real-time factor</td>${factors.map((f) => `<td>${e(formatFactor(f))}</td>`).join("")}</tr>
</table>

<h2>Training</h2>
<table>
${header}
${simpleTable((a) => (a.epochs === null ? "–" : `${formatCount(a.epochs)} epochs, ${formatSeconds(a.trainingSeconds)}`))}
</table>
${uniqueChains.length > 0 ? `<h2>Effects</h2>\n<ul>\n${uniqueChains.join("\n")}\n</ul>` : ""}
${notes.length > 0 ? `<h2>Skipped and failed cells</h2>\n<ul>\n${notes.join("\n")}\n</ul>` : ""}
</body>
</html>
`;
}
