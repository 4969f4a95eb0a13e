import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { makeAudio } from "../../src/audio/audio.ts";
import { encodeWav } from "../../src/audio/wav.ts";
import { importModel } from "../../src/io/import.ts";
import { playableModel } from "../../src/io/playable.ts";
import { createStreamProcessor, processWhole } from "../../src/runtime/processor.ts";
import { missingChromium } from "../effects/webaudio/chromium.ts";
import { missingShared, sharedPath } from "../helpers/shared.ts";
import { type OpenApp, openApp } from "../helpers/web-app.ts";

/*
 * The browser app end to end in real Chromium (Debian chromium + playwright-core; ../helpers/web-app.ts
 * builds it and serves it with `deepsp serve`'s server). One page walks the steps a user would:
 * built-in material through the drive chain, a pair check, a short training run (chart and verdict), the
 * worklet rendering the trained model in an OfflineAudioContext (compared with Node's runtime on the same
 * model and input), a reference .nam from ../shared dropped in and checked against NAM core's output, live
 * play with its CPU load, export and re-import, and the layout at phone width. Each step saves a screenshot
 * in test-results/web/.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHOTS = join(ROOT, "test-results", "web");
const A1 = "models/wavenet_a1_standard.nam";
const skip = missingChromium();

let app: OpenApp;
let page: Page;

before(async () => {
  if (skip) return;
  app = await openApp();
  page = app.page;
  rmSync(SHOTS, { recursive: true, force: true }); // this run's screenshots only
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  if (!skip) await app?.close();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A Float32Array from the page, as base64 of its bytes (an expression evaluating to a Float32Array). */
async function floatsFrom(expression: string): Promise<Float32Array> {
  const text: string = await page.evaluate(`(async () => {
    const samples = await (${expression});
    const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 32768) text += String.fromCharCode(...bytes.subarray(i, i + 32768));
    return btoa(text);
  })()`);
  const bytes = Buffer.from(text, "base64");
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
}

/** Node's streaming runtime on a model file's text: what the worklet should output. */
function nodeOutput(text: string, input: Float32Array, sampleRate: number): Float32Array {
  const processor = playableModel(importModel(text, { verify: false }), "model").createProcessor(1);
  processor.prepare(sampleRate, 128);
  return processWhole(processor, [input], { sampleRate, blockSize: 128 })[0]!;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

test("the page loads with every step and no errors; the keyboard reaches and presses the render button", {
  skip,
}, async () => {
  assert.equal(await page.title(), "deepsp: capture an effect");
  for (const id of ["material", "pair", "train", "listen", "live", "export"])
    assert.ok(await page.isVisible(`#${id}`));
  assert.equal(
    await page.evaluate("crossOriginIsolated"),
    true,
    "the server's COOP/COEP headers isolate the page",
  );
  await shot("01-loaded");
  await page.fill("#material-seconds", "30");
  // Tab from the seconds field to the render button (past the chain field) and press Enter.
  await page.focus("#material-seconds");
  for (let i = 0; i < 5 && (await page.evaluate("document.activeElement.id")) !== "render-builtin"; i++) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate("document.activeElement.id"), "render-builtin");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#train-start:not([disabled])", { timeout: 120_000 });
  const facts = await page.textContent("#pair-facts");
  assert.match(facts!, /48000 Hz/);
  assert.match(facts!, /30\.00 s/);
  assert.match(facts!, /latency\s*\d+ samples/);
  await shot("02-pair-checked");
});

test("training in the worker updates the chart and shows the ESR in words; the worklet renders the model as Node does", {
  skip,
}, async () => {
  await page.selectOption("#preset", "lstm-16-nam");
  await page.fill("#epochs", "2");
  await page.click("#train-start");
  await page.waitForFunction("Number(document.querySelector('#chart').dataset.points ?? 0) > 0", undefined, {
    timeout: 60_000,
  });
  await shot("03-training");
  await page.waitForSelector("#export-json:not([disabled])", { timeout: 300_000 });
  assert.ok(
    Number(await page.getAttribute("#chart", "data-points")) >= 4,
    "training and validation points on the chart",
  );
  const verdict = (await page.textContent("#verdict"))!;
  assert.match(verdict, /test ESR \d\.\d\de-?\d+: (Great|Good|Fair|Poor|Something)/);
  await shot("04-trained");

  const text: string = await page.evaluate("globalThis.deepsp.trained().text");
  const rate: number = await page.evaluate("globalThis.deepsp.trained().test.sampleRate");
  const input = await floatsFrom("globalThis.deepsp.trained().test.input");
  const worklet = await floatsFrom(
    "globalThis.deepsp.renderOffline({ text: globalThis.deepsp.trained().text, name: 'trained' }, globalThis.deepsp.trained().test.input, globalThis.deepsp.trained().test.sampleRate)",
  );
  const node = nodeOutput(text, input, rate);
  const difference = maxDifference(worklet, node);
  console.log(
    `worklet (OfflineAudioContext) vs Node runtime, trained LSTM: max |difference| ${difference.toExponential(2)} over ${input.length} samples`,
  );
  assert.ok(difference <= 1e-6, `worklet and Node differ by ${difference}`);
});

test("Train 5 more resumes from the last epoch, and Stop ends the run with the best model kept", {
  skip,
}, async () => {
  const before = Number(await page.getAttribute("#chart", "data-points"));
  await page.click("#train-resume");
  // Stop once the resumed run has finished a batch of epoch 3.
  await page.waitForFunction(
    "/^epoch [3-9]: batch/.test(document.querySelector('#train-status').textContent)",
    undefined,
    {
      timeout: 120_000,
    },
  );
  await page.click("#train-stop");
  await page.waitForFunction(
    "/^(stopped|done): best epoch/.test(document.querySelector('#train-status').textContent)",
    undefined,
    {
      timeout: 120_000,
    },
  );
  assert.ok(
    Number(await page.getAttribute("#chart", "data-points")) > before,
    "the resumed run added points",
  );
  assert.equal(await page.isEnabled("#train-resume"), true);
  await shot("05-stopped-after-resume");
});

test("A/B/C listening switches sources in lock step", { skip }, async () => {
  await page.click("button.abc[data-source='model']");
  assert.equal(await page.getAttribute("button.abc[data-source='model']", "aria-pressed"), "true");
  await page.click("button.abc[data-source='target']");
  assert.equal(await page.getAttribute("button.abc[data-source='target']", "aria-pressed"), "true");
  assert.equal(await page.getAttribute("button.abc[data-source='model']", "aria-pressed"), "false");
  await shot("06-listening");
  await page.click("#listen-stop");
});

test("export: the deepsp JSON and the .nam download, re-import in Node and in the page, and play the same", {
  skip,
}, async () => {
  const text: string = await page.evaluate("globalThis.deepsp.trained().text");
  const rate: number = await page.evaluate("globalThis.deepsp.trained().test.sampleRate");
  const input = (await floatsFrom("globalThis.deepsp.trained().test.input")).subarray(0, 24000);
  const want = nodeOutput(text, input, rate);
  for (const [button, name] of [
    ["#export-json", "json"],
    ["#export-nam", "nam"],
  ] as const) {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    const saved = join(app.dist, `exported.${name}`);
    await download.saveAs(saved);
    // A .nam plays through NAM's player (an LSTM prewarmed for 0.5 s), so compare the weights' behaviour
    // through deepsp's runtime: the .nam converted back to a deepsp model.
    const imported = importModel(readFileSync(saved, "utf8"), { verify: false });
    if (imported.kind !== "deepsp") assert.fail(`${name}: did not convert back to a deepsp model`);
    const processor = createStreamProcessor(imported.file.model, { audioChannels: 1 });
    processor.prepare(rate, 128);
    const difference = maxDifference(
      processWhole(processor, [input], { sampleRate: rate, blockSize: 128 })[0]!,
      want,
    );
    assert.ok(difference <= 1e-5, `${name}: re-imported model differs by ${difference}`);
    await page.setInputFiles("#model-file", saved);
    await page.waitForFunction(
      `document.querySelector('#model-name').textContent.includes('exported.${name}')`,
    );
  }
  assert.doesNotMatch((await page.textContent("#live-status"))!, /error|cannot/i);
  await shot("07-exported-reimported");
});

test("a reference .nam (WaveNet A1 standard) plays in the worklet as NAM core renders it, and live with its CPU load", {
  skip: skip || missingShared(`nam-reference/${A1}`),
}, async () => {
  const namPath = sharedPath(`nam-reference/${A1}`);
  await page.setInputFiles("#model-file", namPath);
  await page.waitForFunction(
    "document.querySelector('#model-name').textContent.includes('wavenet_a1_standard')",
  );
  const input = new Float32Array(readFileSync(sharedPath("nam-reference/input.f32")).buffer.slice(0));
  const reference = new Float32Array(
    readFileSync(sharedPath("nam-reference/out/wavenet_a1_standard.bs64.f32")).buffer.slice(0),
  );
  const nam = readFileSync(namPath, "utf8");
  const rendered: string = await page.evaluate(
    `(async () => {
      const input = new Float32Array(Uint8Array.from(atob(${JSON.stringify(Buffer.from(input.buffer).toString("base64"))}), (c) => c.charCodeAt(0)).buffer);
      const out = await globalThis.deepsp.renderOffline({ text: ${JSON.stringify(nam)}, name: "a1" }, input, 48000);
      const bytes = new Uint8Array(out.buffer);
      let text = "";
      for (let i = 0; i < bytes.length; i += 32768) text += String.fromCharCode(...bytes.subarray(i, i + 32768));
      return btoa(text);
    })()`,
  );
  const bytes = Buffer.from(rendered, "base64");
  const worklet = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let peak = 0;
  for (const value of reference) peak = Math.max(peak, Math.abs(value));
  const difference = maxDifference(worklet, reference);
  console.log(
    `worklet vs NAM core, wavenet_a1_standard: max |difference| ${difference.toExponential(2)} (peak ${peak.toFixed(3)})`,
  );
  // ../shared/nam-reference/README.md: a float32 port with exact activations stays within 1e-4 x max(1, peak).
  assert.ok(difference <= 1e-4 * Math.max(1, peak), `worklet differs from NAM core by ${difference}`);

  await page.click("#cpu-meter");
  await page.click("#live-file");
  await page.waitForFunction(
    "document.querySelector('#live-status').textContent.startsWith('playing')",
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForFunction(
    "/% of one core/.test(document.querySelector('#cpu-load').textContent)",
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForFunction(
    "/over ([6-9]|\\d\\d+) s played/.test(document.querySelector('#cpu-load').textContent)",
    undefined,
    { timeout: 30_000 },
  );
  const load = (await page.textContent("#cpu-load"))!;
  console.log(`live worklet CPU load, wavenet_a1_standard at 48 kHz: ${load}`);
  assert.match(load, /^\d+(\.\d)?% of one core/);
  await shot("08-live-nam");
  await page.click("#live-stop");
});

test("a file that is not a WAV gets an error naming it, and nothing changes", { skip }, async () => {
  const bogus = join(app.dist, "not-audio.wav");
  writeFileSync(bogus, "this is not a RIFF file");
  await page.setInputFiles("#dry-file", bogus);
  await page.setInputFiles("#wet-file", bogus);
  await page.click("#use-files");
  await page.waitForFunction("document.querySelector('#material-status').classList.contains('error')");
  assert.match((await page.textContent("#material-status"))!, /not-audio\.wav: .*RIFF/);
  assert.equal(await page.isEnabled("#export-json"), true, "the trained model is still there");
  await shot("09-bad-file");
  // Two WAVs that do not make a pair (48 kHz vs 44.1 kHz): the pair check's error names the files.
  const tone = (rate: number) => Float32Array.from({ length: rate }, (_, i) => 0.5 * Math.sin(i / 10));
  writeFileSync(join(app.dist, "dry-48k.wav"), encodeWav(makeAudio(48000, [tone(48000)])));
  writeFileSync(join(app.dist, "wet-44k.wav"), encodeWav(makeAudio(44100, [tone(44100)])));
  await page.setInputFiles("#dry-file", join(app.dist, "dry-48k.wav"));
  await page.setInputFiles("#wet-file", join(app.dist, "wet-44k.wav"));
  await page.click("#use-files");
  await page.waitForFunction(
    "/44100/.test(document.querySelector('#material-status').textContent)",
    undefined,
    {
      timeout: 30_000,
    },
  );
  const message = (await page.textContent("#material-status"))!;
  assert.match(message, /wet-44k\.wav/);
  assert.ok(await page.evaluate("document.querySelector('#material-status').classList.contains('error')"));
});

test("at phone width the page fits without sideways scrolling; no page errors were seen", {
  skip,
}, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow: number = await page.evaluate(
    "document.documentElement.scrollWidth - document.documentElement.clientWidth",
  );
  assert.ok(overflow <= 0, `${overflow} px of sideways overflow at 390 px`);
  await shot("10-phone");
  assert.deepEqual(app.errors, []);
});
