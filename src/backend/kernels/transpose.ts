/** Cache-blocked transpose on a flat float array: src [rows, cols] → dst [cols, rows]. */
export function transposeRowsToColumns(h: Float32Array, src: number, dst: number, rows: number, cols: number): void {
  const block = 32;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < cols; c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      for (let c = c0; c < c1; c++) {
        const d = dst + c * rows;
        for (let r = r0; r < r1; r++) h[d + r] = h[src + r * cols + c]!;
      }
    }
  }
}
