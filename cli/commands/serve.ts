import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { serveApp } from "../../src/node/web/server.ts";
import { integer } from "../parse.ts";

/** Where `npm run build:web` puts the browser app. */
export const WEB_DIST = fileURLToPath(new URL("../../dist/web/", import.meta.url));

export function serveCommand(): Command {
  return new Command("serve")
    .description("serve the browser app (capture, train, listen, play live: all in the page) on this machine")
    .option("--port <n>", "port (0: any free one)", "4173")
    .option("--host <address>", "address to bind: 127.0.0.1 keeps it on this machine", "127.0.0.1")
    .option("--root <folder>", "the built app", WEB_DIST)
    .action(async (options: { port: string; host: string; root: string }) => {
      const running = await serveApp({
        root: options.root,
        host: options.host,
        port: integer(options.port, "--port", 0),
      });
      console.log(`deepsp app at ${running.url}  (Ctrl-C stops it)`);
      await new Promise<void>((resolve) => process.once("SIGINT", resolve));
      await running.close();
    });
}
