// Inverse of a symmetric positive-definite matrix through its Cholesky factor,
// on one flat row-major Float64Array with row-contiguous inner loops. EASE needs
// this for a few thousand items, where a generic inverse in JS is ~10x slower.

/**
 * Returns A⁻¹ for an n×n SPD matrix A (row-major; only its lower triangle is read).
 * `a` is overwritten with scratch. Throws if A is not positive definite.
 * Cost: n³/2 multiply-adds (Cholesky n³/6, L⁻¹ n³/6, L⁻ᵀL⁻¹ n³/6).
 */
export function invertSpd(a: Float64Array, n: number): Float64Array {
  choleskyInPlace(a, n);
  invertLowerInPlace(a, n);
  return lowerGram(a, n);
}

/** A = L·Lᵀ; L overwrites the lower triangle of `a`. */
function choleskyInPlace(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) throw new Error(`matrix is not positive definite (pivot ${j})`);
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
  }
}

/** L → M = L⁻¹ in the lower triangle. Row i of M is -(1/L_ii) Σ_{k<i} L_ik · (row k of M). */
function invertLowerInPlace(a: Float64Array, n: number): void {
  const li = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    li.set(a.subarray(ri, ri + i));
    const inv = 1 / a[ri + i];
    a.fill(0, ri, ri + i);
    for (let k = 0; k < i; k++) {
      const c = li[k];
      const rk = k * n;
      for (let j = 0; j <= k; j++) a[ri + j] += c * a[rk + j];
    }
    for (let j = 0; j < i; j++) a[ri + j] *= -inv;
    a[ri + i] = inv;
  }
}

/** MᵀM for lower-triangular M, as a full symmetric matrix (sum of rank-1 updates of M's rows). */
function lowerGram(m: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const c = m[rk + i];
      if (c === 0) continue;
      const ri = i * n;
      for (let j = 0; j <= i; j++) out[ri + j] += c * m[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j];
  return out;
}
