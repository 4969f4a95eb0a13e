import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DeepspError } from "../../src/core/errors.ts";
import { serveApp } from "../../src/node/web/server.ts";

/** A raw HTTP request (fetch would normalise `..` out of the path before sending it). */
function get(
  url: string,
  path: string,
  method = "GET",
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("serveApp serves the built app's files on 127.0.0.1 with isolation headers, and nothing else", async () => {
  const root = mkdtempSync(join(tmpdir(), "deepsp-serve-"));
  const outside = mkdtempSync(join(tmpdir(), "deepsp-outside-"));
  try {
    writeFileSync(join(root, "index.html"), "<!doctype html><title>app</title>");
    mkdirSync(join(root, "assets"));
    writeFileSync(join(root, "assets", "main.js"), "console.log(1)");
    writeFileSync(join(outside, "secret.txt"), "secret");
    const running = await serveApp({ root });
    try {
      assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const index = await get(running.url, "/");
      assert.equal(index.status, 200);
      assert.match(index.body, /<title>app<\/title>/);
      assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(index.headers["cross-origin-opener-policy"], "same-origin");
      assert.equal(index.headers["cross-origin-embedder-policy"], "require-corp");
      const script = await get(running.url, "/assets/main.js");
      assert.equal(script.status, 200);
      assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
      assert.equal((await get(running.url, "/missing.js")).status, 404);
      assert.equal((await get(running.url, "/assets")).status, 404);
      // Dot segments are resolved inside the root by URL parsing (404); encoded slashes that climb out: 403.
      const sibling = outside.split("/").at(-1)!;
      assert.equal((await get(running.url, `/../${sibling}/secret.txt`)).status, 404);
      assert.equal((await get(running.url, `/..%2f${sibling}%2fsecret.txt`)).status, 403);
      assert.equal((await get(running.url, "/%2e%2e%2f%2e%2e%2fetc%2fpasswd")).status, 403);
      const upload = await get(running.url, "/", "POST");
      assert.equal(upload.status, 405);
      assert.equal(upload.headers["allow"], "GET, HEAD");
    } finally {
      await running.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test("serveApp refuses a folder without a built app, and a port in use, with typed errors", async () => {
  const empty = mkdtempSync(join(tmpdir(), "deepsp-serve-"));
  try {
    await assert.rejects(serveApp({ root: empty }), (error: unknown) => {
      assert.ok(error instanceof DeepspError);
      assert.equal(error.code, "serve/not-built");
      assert.match(error.message, /npm run build:web/);
      return true;
    });
    writeFileSync(join(empty, "index.html"), "x");
    const first = await serveApp({ root: empty });
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(serveApp({ root: empty, port }), (error: unknown) => {
        assert.ok(error instanceof DeepspError);
        assert.equal(error.code, "serve/listen");
        assert.match(error.message, /in use/);
        return true;
      });
    } finally {
      await first.close();
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
