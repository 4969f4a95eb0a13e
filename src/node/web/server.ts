import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { DeepspError } from "../../core/errors.ts";

/*
 * `deepsp serve`: a static file server for the built browser app (web/, built by `npm run build:web` into
 * dist/web). It serves files under that folder only, answers GET and HEAD only (the app does everything in
 * the page: nothing is uploaded), and binds to 127.0.0.1 unless told otherwise. The headers make the page
 * cross-origin isolated (COOP + COEP), which SharedArrayBuffer and precise timers in the page need.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".nam": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".wav": "audio/wav",
  ".txt": "text/plain; charset=utf-8",
};

export interface ServeOptions {
  /** The built app's folder (holds index.html). */
  root: string;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function serveApp(options: ServeOptions): Promise<RunningServer> {
  const root = normalize(options.root);
  const index = await stat(join(root, "index.html")).catch(() => null);
  if (!index?.isFile()) {
    throw new DeepspError(
      "serve/not-built",
      `${root} has no index.html: build the browser app first (npm run build:web)`,
    );
  }
  const server = createServer((request, response) => {
    const headers = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-cache",
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { ...headers, Allow: "GET, HEAD" }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    } catch {
      response.writeHead(400, headers).end();
      return;
    }
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      response.writeHead(403, headers).end();
      return;
    }
    stat(file).then(
      (info) => {
        if (!info.isFile()) {
          response.writeHead(404, headers).end();
          return;
        }
        response.writeHead(200, {
          ...headers,
          "Content-Type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
          "Content-Length": info.size,
        });
        if (request.method === "HEAD") response.end();
        else createReadStream(file).pipe(response);
      },
      () => response.writeHead(404, headers).end(),
    );
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new DeepspError(
          "serve/listen",
          `cannot listen on ${host}:${options.port ?? 0}: ${error.code === "EADDRINUSE" ? "the port is in use" : error.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 0, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shown}:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
