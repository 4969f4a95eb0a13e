import type { TopLevelSpec } from "vega-lite";
import type { BandError } from "../types.ts";
import type { TrainingCurves } from "./data.ts";

/**
 * The report's charts as vega-lite specs, rendered to standalone SVG headlessly: vega-lite compiles the
 * spec to vega, and a vega View with renderer "none" writes SVG without a canvas (text widths are
 * estimated). vega loads lazily, on the first chart, so commands that never draw one do not pay for it.
 * Log scales drop values that are not positive and finite (an ESR of exactly 0 cannot be drawn).
 */

const FONT = "sans-serif";
const WIDTH = 420;
const HEIGHT = 220;

const CONFIG = {
  font: FONT,
  view: { stroke: "#999" },
  axis: { labelFontSize: 11, titleFontSize: 11, gridColor: "#e8e8e8" },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: "bottom" },
  title: { fontSize: 13, anchor: "start" },
} as const;

const positive = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value > 0;

/** Training loss and validation loss per epoch (log scale). */
export function lossChartSpec(curves: TrainingCurves): TopLevelSpec {
  const values: { epoch: number; value: number; series: string }[] = [];
  if (curves.initialValidation && positive(curves.initialValidation.loss)) {
    values.push({ epoch: 0, value: curves.initialValidation.loss, series: "validation loss" });
  }
  for (const point of curves.history) {
    if (positive(point.trainLoss))
      values.push({ epoch: point.epoch, value: point.trainLoss, series: "training loss" });
    if (positive(point.validationLoss))
      values.push({ epoch: point.epoch, value: point.validationLoss, series: "validation loss" });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Loss per epoch",
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values },
    mark: { type: "line", point: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } },
      y: { field: "value", type: "quantitative", title: "loss", scale: { type: "log" } },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: ["training loss", "validation loss"], range: ["#1f77b4", "#e4572e"] },
      },
    },
  };
}

/**
 * Validation ESR per epoch (epoch 0: the untrained model), the best epoch as a vertical rule, and the ESR
 * of each render (`deepsp train --render-every`) as separate points.
 */
export function esrChartSpec(
  curves: TrainingCurves,
  renders: { epoch: number; esr: number }[] = [],
): TopLevelSpec {
  const values: { epoch: number; value: number; series: string }[] = [];
  if (curves.initialValidation && positive(curves.initialValidation.esr)) {
    values.push({ epoch: 0, value: curves.initialValidation.esr, series: "validation ESR" });
  }
  for (const point of curves.history) {
    if (positive(point.validationEsr))
      values.push({ epoch: point.epoch, value: point.validationEsr, series: "validation ESR" });
  }
  for (const render of renders) {
    if (positive(render.esr)) values.push({ epoch: render.epoch, value: render.esr, series: "render ESR" });
  }
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>["layer"]> = [
    {
      mark: { type: "line", point: true, strokeWidth: 1.5 },
      transform: [{ filter: "datum.series === 'validation ESR'" }],
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } },
        y: { field: "value", type: "quantitative", title: "ESR", scale: { type: "log" } },
        color: {
          field: "series",
          type: "nominal",
          title: null,
          scale: { domain: ["validation ESR", "render ESR"], range: ["#e4572e", "#2a9d8f"] },
        },
      },
    },
    {
      mark: { type: "point", shape: "diamond", size: 70, filled: true },
      transform: [{ filter: "datum.series === 'render ESR'" }],
      encoding: {
        x: { field: "epoch", type: "quantitative" },
        y: { field: "value", type: "quantitative", scale: { type: "log" } },
        color: { field: "series", type: "nominal" },
      },
    },
  ];
  if (curves.bestEpoch !== undefined && curves.bestEpoch !== null) {
    layers.push({
      data: { values: [{ epoch: curves.bestEpoch, label: `best: epoch ${curves.bestEpoch}` }] },
      layer: [
        {
          mark: { type: "rule", strokeDash: [4, 3], color: "#555" },
          encoding: { x: { field: "epoch", type: "quantitative" } },
        },
        {
          mark: { type: "text", align: "left", dx: 4, dy: -4, baseline: "top", color: "#333", y: 0 },
          encoding: { x: { field: "epoch", type: "quantitative" }, text: { field: "label" } },
        },
      ],
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Validation ESR per epoch",
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values },
    layer: layers,
  };
}

/** ESR per octave band, model and identity as two lines over the bands (log scale). */
export function bandChartSpec(model: BandError[], identity: BandError[]): TopLevelSpec {
  const label = (band: BandError) =>
    band.centerHz >= 1000
      ? `${Number((band.centerHz / 1000).toPrecision(3))}k`
      : `${Number(band.centerHz.toPrecision(3))}`;
  const values = [
    ...model
      .filter((band) => positive(band.esr))
      .map((band) => ({ band: label(band), order: band.centerHz, esr: band.esr, series: "model" })),
    ...identity
      .filter((band) => positive(band.esr))
      .map((band) => ({
        band: label(band),
        order: band.centerHz,
        esr: band.esr,
        series: "identity (input)",
      })),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "ESR per octave band",
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values },
    // Lines and points, not bars: a bar on a log scale has no baseline to start from.
    mark: { type: "line", point: { size: 45, filled: true }, strokeWidth: 1.5 },
    encoding: {
      x: {
        field: "band",
        type: "ordinal",
        title: "octave band centre (Hz)",
        sort: { field: "order", op: "min" },
        axis: { labelAngle: 0 },
      },
      y: { field: "esr", type: "quantitative", title: "ESR", scale: { type: "log" } },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: ["model", "identity (input)"], range: ["#e4572e", "#9aa5b1"] },
      },
    },
  };
}

/** Compiles a vega-lite spec and renders it to an SVG document, headless. */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
