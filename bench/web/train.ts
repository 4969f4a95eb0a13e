import { missingChromium } from "../../test/effects/webaudio/chromium.ts";
import { openApp } from "../../test/helpers/web-app.ts";
import type { Benchmark, Figure } from "../harness.ts";

/**
 * The browser app's headline: in headless Chromium, the page's defaults (40 s of the standard capture signal
 * through "lowpass(cutoffHz=4000) | drive(gainDb=12, outputDb=-6)", LSTM-16, 5 epochs of 2048-sample windows)
 * from pressing Train to the trained model, with its test ESR (the goal: ESR < 0.02 within two minutes),
 * and the live worklet's CPU load playing the trained model at 48 kHz.
 */
export const webTrainBench: Benchmark = {
  name: "web",
  description: "browser app: LSTM-16 on the drive chain in Chromium (time, test ESR), worklet CPU load",
  slow: true,
  async run() {
    const missing = missingChromium();
    if (missing) return [{ name: "skipped", value: 0, unit: "", note: missing }];
    const app = await openApp();
    try {
      const { page } = app;
      await page.click("#render-builtin");
      await page.waitForSelector("#train-start:not([disabled])", { timeout: 120_000 });
      const start = Date.now();
      await page.click("#train-start");
      await page.waitForSelector("#export-json:not([disabled])", { timeout: 600_000 });
      const seconds = (Date.now() - start) / 1000;
      const testEsr: number = await page.evaluate("globalThis.deepsp.trained().testEsr");
      const validationEsr: number = await page.evaluate("globalThis.deepsp.trained().validationEsr");
      await page.click("#cpu-meter");
      await page.click("#live-file");
      await page.waitForFunction(
        "/% of one core/.test(document.querySelector('#cpu-load').textContent)",
        undefined,
        {
          timeout: 30_000,
        },
      );
      await page.waitForFunction(
        "/over ([8-9]|\\d\\d+) s played/.test(document.querySelector('#cpu-load').textContent)",
        undefined,
        { timeout: 30_000 },
      );
      const load = Number.parseFloat((await page.textContent("#cpu-load")) ?? "");
      const figures: Figure[] = [
        { name: "LSTM-16 on drive, Train pressed to model", value: seconds, unit: "s", note: "goal < 120 s" },
        {
          name: "LSTM-16 on drive, test ESR",
          value: testEsr,
          unit: "",
          note: `goal < 0.02; validation ${validationEsr.toExponential(2)}`,
        },
        { name: "LSTM-16 live in the worklet at 48 kHz", value: load, unit: "% of one core" },
      ];
      return figures;
    } finally {
      await app.close();
    }
  },
};
