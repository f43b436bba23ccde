// Due-ness: how likely a re-buy falls in the next `horizon` days, given the item was last
// bought `elapsed` days ago and not since, when the gap to the next purchase is
// log-normal (μ, σ of ln days). An item bought yesterday is not due; one at its usual
// gap is; one long overdue is less and less likely to come back (the log-normal hazard falls).

/** P(gap ≤ elapsed + horizon | gap > elapsed). */
export function dueProbability(mu: number, sigma: number, elapsedDays: number, horizonDays: number): number {
  const survivalNow = elapsedDays > 0 ? normalSurvival((Math.log(elapsedDays) - mu) / sigma) : 1;
  if (!(survivalNow > 0)) return 0;
  const survivalLater = normalSurvival((Math.log(elapsedDays + horizonDays) - mu) / sigma);
  return Math.min(Math.max(1 - survivalLater / survivalNow, 0), 1);
}

/** 1 − Φ(z) = erfc(z / √2) / 2, with Numerical Recipes' erfc (relative error < 1.2e-7, also in the far tail). */
export function normalSurvival(z: number): number {
  const x = z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const erfc =
    t *
    Math.exp(
      -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return (x >= 0 ? erfc : 2 - erfc) / 2;
}
