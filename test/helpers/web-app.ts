import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { type RunningServer, serveApp } from "../../src/node/web/server.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../effects/webaudio/chromium.ts";

/*
 * The browser app in real Chromium, for the end-to-end tests and the browser bench: vite builds web/ into a
 * temporary folder (so a test never serves a stale dist/web), `deepsp serve`'s server serves it on a free
 * port of 127.0.0.1, and headless Debian chromium (playwright-core) opens it at 1280 x 800.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface OpenApp {
  page: Page;
  /** Where the app was built (a temporary folder, removed by close). */
  dist: string;
  url: string;
  /** Page errors and console errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function openApp(): Promise<OpenApp> {
  const dist = mkdtempSync(join(tmpdir(), "deepsp-web-"));
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    execFileSync(
      process.execPath,
      [
        join(ROOT, "node_modules/vite/bin/vite.js"),
        "build",
        "--outDir",
        dist,
        "--emptyOutDir",
        "--logLevel",
        "warn",
      ],
      { cwd: ROOT, stdio: "inherit" },
    );
    server = await serveApp({ root: dist });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto(server.url);
    const opened = { browser, server };
    return {
      page,
      dist,
      url: server.url,
      errors,
      async close() {
        await opened.browser.close();
        await opened.server.close();
        rmSync(dist, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await server?.close();
    rmSync(dist, { recursive: true, force: true });
    throw error;
  }
}
