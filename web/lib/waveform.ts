/** Draws min/max overviews ([lo, hi] per column) of the dry signal (top half) and the wet one (bottom half). */
export function drawOverview(canvas: HTMLCanvasElement, dry: Float32Array, wet: Float32Array): void {
  const context = canvas.getContext("2d");
  if (!context) return;
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const half = height / 2;
  const lane = (data: Float32Array, top: number, colour: string) => {
    const columns = data.length / 2;
    const peak = Math.max(1e-9, ...Array.from(data, Math.abs));
    context.fillStyle = colour;
    for (let c = 0; c < columns; c++) {
      const x = (c / columns) * width;
      const lo = data[2 * c]! / peak;
      const hi = data[2 * c + 1]! / peak;
      const mid = top + half / 2;
      const y0 = mid - hi * (half / 2 - 4);
      const y1 = mid - lo * (half / 2 - 4);
      context.fillRect(x, y0, Math.max(1, width / columns), Math.max(1, y1 - y0));
    }
  };
  lane(dry, 0, "#2f6bdf");
  lane(wet, half, "#e07b00");
  context.fillStyle = "#5d6778";
  context.font = "12px system-ui";
  context.fillText("dry", 6, 14);
  context.fillText("wet (aligned)", 6, half + 14);
}
