// A simple customer value: purchases the BG/NBD expects in the next `horizon` periods
// times the spend per purchase the Gamma–Gamma model expects. Undiscounted revenue, not
// margin: multiply by a margin and discount it for a CLV in the textbook sense.
import { expectedPurchasesOf, type BgNbdParams, type RftData } from './bgnbd.ts';
import { expectedAverageSpend, type GammaGammaParams } from './gamma-gamma.ts';

/** Per customer of `rft`; `meanSpend` is the average repeat spend (ignored when x = 0). */
export function customerValues(bgnbd: BgNbdParams, gammaGamma: GammaGammaParams, rft: RftData, meanSpend: ArrayLike<number>, horizon: number): Float64Array {
  const expectedPurchases = expectedPurchasesOf(bgnbd);
  return rft.x.map((x, i) => expectedPurchases(x, rft.tx[i], rft.T[i], horizon) * expectedAverageSpend(gammaGamma, x, meanSpend[i]));
}
