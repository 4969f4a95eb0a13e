/** What the wasm kernels are built from (shared by scripts/build-wasm.ts and the staleness test). */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);

/** AssemblyScript sources, relative to the repository root: every .ts file in assembly/, each an entry. */
export const WASM_SOURCES = readdirSync(new URL("assembly/", root))
  .filter((name) => name.endsWith(".ts"))
  .sort()
  .map((name) => `assembly/${name}`);

/** asc flags: SIMD, optimised, no GC runtime, memory imported from JS (the arena), no abort import. */
export const ASC_FLAGS = [
  "--enable",
  "simd",
  "-O3",
  "--runtime",
  "stub",
  "--importMemory",
  "--noExportMemory",
  "--use",
  "abort=",
];

/** Added to ASC_FLAGS for the second build: relaxed SIMD (fused multiply-add in assembly/fma.ts). */
export const RELAXED_FLAGS = ["--enable", "relaxed-simd"];

/** SHA-256 over the source paths and texts, the flags and the compiler version (what the output depends on). */
export function sourceDigest(): string {
  const hash = createHash("sha256");
  const pkg = JSON.parse(readFileSync(new URL("node_modules/assemblyscript/package.json", root), "utf8"));
  hash.update(`assemblyscript ${pkg.version}\n${ASC_FLAGS.join(" ")}\n${RELAXED_FLAGS.join(" ")}\n`);
  for (const path of WASM_SOURCES) hash.update(`${path}\n${readFileSync(new URL(path, root), "utf8")}\n`);
  return hash.digest("hex");
}
