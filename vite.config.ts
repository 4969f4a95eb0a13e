import { defineConfig } from "vite";

/*
 * The browser app (web/): `npm run build:web` writes dist/web, which `deepsp serve` serves. Relative base so
 * the built files work from any folder; ES module workers (the training worker imports the library).
 */
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: "web",
  base: "./",
  build: { outDir: "../dist/web", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4096 },
  worker: { format: "es" },
  server: { headers: isolation },
  preview: { headers: isolation },
});
