/*
 * Element-wise passes over blocks of rows (AssemblyScript), for the fused training paths that keep their
 * activations in wasm memory (src/nn/kernels/wasm/tcn.ts). A block is `rows` rows of floats, row r at
 * base + r * stride * 4 bytes; `count` frames from each row's start. Pointers are byte addresses.
 */

/** dst[r][t] += src[r][t] for t < count. */
export function addRows(dst: usize, dstStride: i32, src: usize, srcStride: i32, rows: i32, count: i32): void {
  const end = (<usize>count) << 2;
  for (let r = 0; r < rows; r++) {
    const d = dst + ((<usize>(r * dstStride)) << 2);
    const s = src + ((<usize>(r * srcStride)) << 2);
    let i: usize = 0;
    for (; i + 16 <= end; i += 16) v128.store(d + i, f32x4.add(v128.load(d + i), v128.load(s + i)));
    for (; i < end; i += 4) store<f32>(d + i, load<f32>(d + i) + load<f32>(s + i));
  }
}

/** dst[r][t] = a[r][t] + b[r][t] for t < count. */
export function sumRows(
  dst: usize,
  dstStride: i32,
  a: usize,
  aStride: i32,
  b: usize,
  bStride: i32,
  rows: i32,
  count: i32,
): void {
  const end = (<usize>count) << 2;
  for (let r = 0; r < rows; r++) {
    const d = dst + ((<usize>(r * dstStride)) << 2);
    const x = a + ((<usize>(r * aStride)) << 2);
    const y = b + ((<usize>(r * bStride)) << 2);
    let i: usize = 0;
    for (; i + 16 <= end; i += 16) v128.store(d + i, f32x4.add(v128.load(x + i), v128.load(y + i)));
    for (; i < end; i += 4) store<f32>(d + i, load<f32>(x + i) + load<f32>(y + i));
  }
}

/** dst[r][from .. from + count) = 0. */
export function zeroRows(dst: usize, stride: i32, rows: i32, from: i32, count: i32): void {
  if (count <= 0) return;
  for (let r = 0; r < rows; r++) {
    memory.fill(dst + ((<usize>(r * stride + from)) << 2), 0, (<usize>count) << 2);
  }
}
