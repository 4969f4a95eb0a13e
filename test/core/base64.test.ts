import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeBase64, encodeBase64 } from "../../src/core/base64.ts";
import { Rng } from "../../src/core/rng.ts";

test("base64: RFC 4648 vectors, agreement with Node's Buffer, malformed text refused", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of vectors) {
    const bytes = new TextEncoder().encode(plain);
    assert.equal(encodeBase64(bytes), encoded);
    assert.deepEqual(decodeBase64(encoded), bytes);
  }
  const rng = new Rng(5);
  for (const length of [1, 2, 3, 100, 30001]) {
    const bytes = Uint8Array.from({ length }, () => rng.int(256));
    const encoded = encodeBase64(bytes);
    assert.equal(encoded, Buffer.from(bytes).toString("base64"));
    assert.deepEqual(decodeBase64(encoded), bytes);
  }
  for (const bad of ["A", "Zg=", "Z===", "AB=C", "Zm9v!A==", "Zm 9v", "=Zm9", "AAAA="]) {
    assert.throws(() => decodeBase64(bad), /not valid base64/, bad);
  }
});
