import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { decodeBase64, encodeBase64 } from "../../../src/core/base64.ts";
import type { Graph, ImpulseOptions } from "../../../src/effects/webaudio/graph.ts";

/**
 * Renders Web Audio graphs in real Chromium: src/effects/webaudio/graph.ts is bundled with esbuild (no
 * files written), injected into a blank page of headless Debian chromium driven by playwright-core, and
 * run with the page's own OfflineAudioContext. Samples cross as base64 float32 bytes. No network, no server.
 */

/** Debian's chromium; DEEPSP_CHROMIUM names another build of Chromium. */
export const CHROMIUM = process.env["DEEPSP_CHROMIUM"] ?? "/usr/bin/chromium";

/** Headless Debian chromium without network chatter or a sandbox (CI runs as root). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A skip message for node:test when Chromium is not installed, else false. */
export function missingChromium(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} is absent: skipping the Node-vs-Chromium comparison (apt-get install -y chromium)`;
}

const graphModule = fileURLToPath(new URL("../../../src/effects/webaudio/graph.ts", import.meta.url));
const base64Module = fileURLToPath(new URL("../../../src/core/base64.ts", import.meta.url));

/**
 * The page's entry: graph.ts plus two helpers taking and giving base64 float32 channels. They live in the
 * bundle, not in page.evaluate callbacks, because tsx compiles those with esbuild's keepNames, whose
 * __name() helper does not exist in the page.
 */
const ENTRY = `
import { renderGraph, synthesizeImpulse } from ${JSON.stringify(graphModule)};
import { decodeBase64, encodeBase64 } from ${JSON.stringify(base64Module)};
const decode = (text) => { const bytes = decodeBase64(text); return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4); };
const encode = (samples) => encodeBase64(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
export async function render(graph, channels, sampleRate) {
  const result = await renderGraph(graph, { sampleRate, channels: channels.map(decode) },
    (count, length, rate) => new OfflineAudioContext(count, length, rate));
  return { channels: result.audio.channels.map(encode), latencySamples: result.latencySamples };
}
export function impulse(options, sampleRate) { return encode(synthesizeImpulse(options, sampleRate)); }
`;

export interface ChromiumPage {
  page: Page;
  /** Chromium's version string (navigator.userAgent's HeadlessChrome/...). */
  version: string;
  /** Renders `graph` in the page; returns the channels and the latency the page's engine reports. */
  render(
    graph: Graph,
    channels: Float32Array[],
    sampleRate: number,
  ): Promise<{ channels: Float32Array[]; latencySamples: number }>;
  /** synthesizeImpulse run in the page. */
  impulse(options: ImpulseOptions, sampleRate: number): Promise<Float32Array>;
  close(): Promise<void>;
}

function toBase64(samples: Float32Array): string {
  return encodeBase64(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
}

function fromBase64(text: string): Float32Array {
  const bytes = decodeBase64(text);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

export async function openChromium(): Promise<ChromiumPage> {
  const bundle = await build({
    stdin: { contents: ENTRY, loader: "js", resolveDir: fileURLToPath(new URL(".", import.meta.url)) },
    bundle: true,
    format: "iife",
    globalName: "deepspWebAudio",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const userDataDir = mkdtempSync(join(tmpdir(), "deepsp-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.setContent("<!doctype html><title>deepsp webaudio</title>");
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    const version = await page.evaluate(() => navigator.userAgent);
    const browser = context;
    return {
      page,
      version,
      async render(graph, channels, sampleRate) {
        const result = await page.evaluate(
          // biome-ignore lint/suspicious/noExplicitAny: the bundle's global
          (args) => (globalThis as any).deepspWebAudio.render(args.graph, args.channels, args.sampleRate),
          { graph, channels: channels.map(toBase64), sampleRate },
        );
        return {
          channels: (result.channels as string[]).map(fromBase64),
          latencySamples: result.latencySamples as number,
        };
      },
      async impulse(options, sampleRate) {
        const text: string = await page.evaluate(
          // biome-ignore lint/suspicious/noExplicitAny: the bundle's global
          (args) => (globalThis as any).deepspWebAudio.impulse(args.options, args.sampleRate),
          { options, sampleRate },
        );
        return fromBase64(text);
      },
      async close() {
        await browser.close();
        rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
}
