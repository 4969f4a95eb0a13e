import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The read-only folder beside the repository with the study's recordings and the NAM references. */
export const SHARED_DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));

/**
 * Path of a file under ../shared/data, or a skip message for node:test's `skip` option when the folder is
 * absent (a clone outside this workplace): `test("...", { skip: missingShared(path) }, ...)`.
 */
export function sharedPath(relative: string): string {
  return SHARED_DATA + relative;
}

export function missingShared(relative: string): string | false {
  return existsSync(sharedPath(relative))
    ? false
    : `../shared/data/${relative} is absent: skipping the test that reads it`;
}
