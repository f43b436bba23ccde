import { Matrix, inverse } from 'ml-matrix';
import { invertSpd } from './src/cf/spd-inverse.ts';
for (const n of [500, 1000, 2000, 3000]) {
  const r = Matrix.rand(n, n);
  const g = r.transpose().mmul(r);
  for (let i = 0; i < n; i++) g.set(i, i, g.get(i, i) + 100);
  const flat = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) flat[i * n + j] = g.get(i, j);
  let t = performance.now();
  const p = invertSpd(flat, n);
  const tMine = performance.now() - t;
  let err = 0;
  if (n <= 1000) {
    t = performance.now();
    const q = inverse(g);
    console.log('ml-matrix', ((performance.now() - t) / 1000).toFixed(2));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(q.get(i, j) - p[i * n + j]));
  }
  console.log(n, 'invertSpd', (tMine / 1000).toFixed(2), 's maxerr', err);
}
