// Maximum likelihood for models with positive parameters: optimise over their logs
// (so the search is unconstrained), standard errors from the observed information
// (numeric Hessian of −log L at the optimum), mapped back by the delta method.
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import { minimize, numericHessian } from './optimize.ts';

export interface MleResult {
  params: Float64Array;
  logLikelihood: number;
  /** Natural-scale standard errors; null when the information matrix is not positive definite. */
  standardErrors: Float64Array | null;
  converged: boolean;
  iterations: number;
}

// exp(±40) spans 4e-18 .. 2e17: any parameter outside is a degenerate fit, not a useful one.
const LOG_BOUND = 40;

/**
 * Maximises `logLikelihood(params)` over positive params, starting Nelder–Mead from each of
 * `starts` (natural scale) and polishing the best with BFGS.
 */
export function fitPositive(logLikelihood: (params: Float64Array) => number, starts: Float64Array[]): MleResult {
  const negative = (theta: Float64Array): number => {
    if (theta.some((t) => !(Math.abs(t) <= LOG_BOUND))) return Infinity;
    const ll = logLikelihood(theta.map(Math.exp));
    return Number.isFinite(ll) ? -ll : Infinity;
  };
  const best = minimize(
    negative,
    starts.map((s) => s.map(Math.log)),
  );
  const params = best.x.map(Math.exp);
  return {
    params,
    logLikelihood: -best.value,
    standardErrors: deltaMethodErrors(negative, best.x, params),
    converged: best.converged,
    iterations: best.iterations,
  };
}

// Var(log θ) = diag(H⁻¹) with H the Hessian of −log L in log θ; SE(θ) = θ · SE(log θ).
// At the optimum this equals inverting the natural-scale information: the gradient term of
// the change of variables vanishes there.
function deltaMethodErrors(negative: (theta: Float64Array) => number, theta: Float64Array, params: Float64Array): Float64Array | null {
  const hessian = numericHessian(negative, theta);
  if (!hessian.every((row) => row.every(Number.isFinite))) return null;
  const information = new Matrix(hessian);
  // Not positive definite: no maximum there (a ridge or a boundary), so no standard errors.
  if (!new CholeskyDecomposition(information).isPositiveDefinite()) return null;
  const covariance = inverse(information);
  return params.map((p, i) => p * Math.sqrt(covariance.get(i, i)));
}
