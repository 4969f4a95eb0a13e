/*
 * The training chart: mean training loss per epoch (so far, while the epoch runs) and validation ESR per
 * epoch, on a log scale, as an SVG redrawn from plain arrays (a few dozen points: no library needed).
 */

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

export interface ChartData {
  /** [epoch (fractional while running), mean training loss]. */
  train: [number, number][];
  /** [epoch, validation ESR]; epoch 0 is the untrained model. */
  validation: [number, number][];
  epochs: number;
}

function element(name: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function drawChart(svg: SVGSVGElement, data: ChartData): void {
  svg.replaceChildren();
  const values = [...data.train, ...data.validation]
    .map(([, v]) => v)
    .filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.log10(values.length ? Math.min(...values) : 1e-3);
  const hi = Math.log10(values.length ? Math.max(...values) : 1);
  const bottom = Math.floor(lo);
  const top = Math.max(bottom + 1, Math.ceil(hi));
  const x = (epoch: number) => PAD.left + (epoch / Math.max(1, data.epochs)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) =>
    PAD.top + ((top - Math.log10(value)) / (top - bottom)) * (HEIGHT - PAD.top - PAD.bottom);
  for (let decade = bottom; decade <= top; decade++) {
    svg.append(
      element("line", {
        class: "grid",
        x1: PAD.left,
        x2: WIDTH - PAD.right,
        y1: y(10 ** decade),
        y2: y(10 ** decade),
      }),
    );
    svg.append(
      element("text", { x: PAD.left - 6, y: y(10 ** decade) + 4, "text-anchor": "end" }, `1e${decade}`),
    );
  }
  svg.append(
    element("line", { class: "axis", x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: HEIGHT - PAD.bottom }),
  );
  svg.append(
    element("line", {
      class: "axis",
      x1: PAD.left,
      x2: WIDTH - PAD.right,
      y1: HEIGHT - PAD.bottom,
      y2: HEIGHT - PAD.bottom,
    }),
  );
  const step = Math.max(1, Math.ceil(data.epochs / 10));
  for (let epoch = 0; epoch <= data.epochs; epoch += step) {
    svg.append(element("text", { x: x(epoch), y: HEIGHT - 10, "text-anchor": "middle" }, String(epoch)));
  }
  const path = (points: [number, number][]) =>
    points
      .filter(([, v]) => v > 0 && Number.isFinite(v))
      .map(([e, v], i) => `${i === 0 ? "M" : "L"}${x(e).toFixed(1)},${y(v).toFixed(1)}`)
      .join(" ");
  if (data.train.length > 0) svg.append(element("path", { class: "train", d: path(data.train) }));
  if (data.validation.length > 0) {
    svg.append(element("path", { class: "valid", d: path(data.validation) }));
    for (const [e, v] of data.validation) {
      if (v > 0 && Number.isFinite(v))
        svg.append(element("circle", { class: "dot-valid", cx: x(e), cy: y(v), r: 3 }));
    }
  }
  svg.append(
    element(
      "text",
      { x: WIDTH - PAD.right, y: PAD.top + 10, "text-anchor": "end" },
      "— training loss   ● validation ESR",
    ),
  );
  svg.setAttribute("data-points", String(data.train.length + data.validation.length));
}
