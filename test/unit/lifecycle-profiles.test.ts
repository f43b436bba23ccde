// Customer profiles as the build stores them: summaries, RFM, the models in days, and the due
// items of replenishment (buy-again's own functions), checked on small hand-made customers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repeatLookup, repeatStats } from '../../src/cf/repeat/stats.ts';
import { collectInteractions } from '../../src/cf/interactions.ts';
import { expectedPurchases, probabilityAlive } from '../../src/lifecycle/bgnbd.ts';
import { customerProfiles } from '../../src/lifecycle/profiles.ts';
import { purchaseDays, type Purchase } from '../../src/lifecycle/purchase-days.ts';
import { dueItems, dueWithin, nextDueDays } from '../../src/lifecycle/replenishment.ts';
import { simulateBgNbd, simulateSpend } from '../../src/lifecycle/simulate.ts';

const DAY = 86_400;

test('no repeat buyer: summaries and segments, but no BG/NBD and no spend fit (nothing to fit on)', () => {
  const purchases: Purchase[] = [
    { user: 'a', ts: 10 * DAY, revenue: 5 },
    { user: 'b', ts: 12 * DAY, revenue: 9 },
    { user: 'b', ts: 12 * DAY + 60, revenue: 1 },
  ];
  const { fit, profiles } = customerProfiles(purchaseDays(purchases), 20);
  assert.equal(fit.bgnbd, null);
  assert.equal(fit.repeatBuyers, 0);
  assert.equal(fit.spend.fit, null);
  assert.deepEqual(
    profiles.map((p) => [p.user, p.orders, p.revenue, p.recencyDays, p.meanGapDays, p.expectedNextDay, p.pAlive, p.customerValue]),
    [
      ['a', 1, 5, 10, null, null, null, null],
      // Two purchases on one day are one order.
      ['b', 1, 10, 8, null, null, null, null],
    ],
  );
});

test("simulated shop (days): P(alive) and expected purchases are the fitted model's, value = purchases in a year × spend", () => {
  const truth = { r: 0.8, alpha: 30, a: 0.6, b: 2.5 };
  const sim = simulateBgNbd(truth, { customers: 800, minAge: 200, maxAge: 365, seed: 7 });
  const spend = simulateSpend(
    { p: 6, q: 4, v: 15 },
    sim.rft.x.map((x) => Math.max(x, 1)),
    11,
  );
  const end = 1000;
  // Each customer's purchase days back from the simulated times: first at end − T, repeats at end − T + t.
  const purchases: Purchase[] = [];
  for (let i = 0; i < sim.rft.x.length; i++) {
    const first = Math.ceil(end - sim.rft.T[i]);
    purchases.push({ user: `c${i}`, ts: first * DAY, revenue: spend[i] });
    // x repeat days spread evenly up to t_x (distinct days, as the model counts them).
    for (let k = 1; k <= sim.rft.x[i]; k++) purchases.push({ user: `c${i}`, ts: (first + Math.round((sim.rft.tx[i] * k) / sim.rft.x[i]) + k - 1) * DAY, revenue: spend[i] });
  }
  const days = purchaseDays(purchases.filter((p) => p.ts <= end * DAY));
  const { fit, profiles } = customerProfiles(days, end);
  assert.ok(fit.bgnbd && fit.spend.fit, 'both models fit');
  const params = fit.bgnbd.params;
  for (const p of profiles.slice(0, 50)) {
    const u = days.userIds.indexOf(p.user);
    const x = days.start[u + 1] - days.start[u] - 1;
    const tx = days.day[days.start[u + 1] - 1] - days.day[days.start[u]];
    const T = end - days.day[days.start[u]];
    assert.equal(p.orders, x + 1);
    // Rounded to 6 decimals, as stored.
    assert.ok(Math.abs(p.pAlive! - probabilityAlive(params, x, tx, T)) <= 5e-7);
    assert.ok(Math.abs(p.expectedPurchases30! - expectedPurchases(params, x, tx, T, 30)) <= 5e-7);
    assert.ok(p.expectedPurchases90! > p.expectedPurchases30!, 'more purchases in 90 days than in 30');
    // Value and spend are rounded to the cent: the spend's rounding is multiplied by the purchases.
    const yearly = expectedPurchases(params, x, tx, T, 365);
    assert.ok(Math.abs(p.customerValue! - yearly * p.expectedSpend!) <= 0.005 * (1 + yearly) + 1e-9, `${p.user}: value ${p.customerValue}`);
    if (x === 0) assert.equal(p.pAlive, 1, 'no repeat purchase: nothing says they left');
  }
  // The fit is in days: the mean rate r/α is purchases per day, near the truth's 0.8/30.
  assert.ok(Math.abs(params.r / params.alpha - truth.r / truth.alpha) < 0.3 * (truth.r / truth.alpha), `r/α = ${params.r / params.alpha}`);
});

test("due items: the habit's next purchase, within one gap of overdue; soonest first without a buy-again model", async () => {
  // u1 buys milk every 10 days (last on day 95) and a lamp once; u2 bought milk on day 20 and 30 only.
  const rows = [
    ...[45, 55, 65, 75, 85, 95].map((d) => ({ user: 'u1', item: 'milk', ts: d * DAY })),
    { user: 'u1', item: 'lamp', ts: 50 * DAY },
    { user: 'u2', item: 'milk', ts: 20 * DAY },
    { user: 'u2', item: 'milk', ts: 30 * DAY },
  ].map((r) => ({ ...r, type: 'purchase' as const }));
  const x = await collectInteractions(rows, { purchase: 1, view: 1, cart: 1, click: 0 });
  const lookup = repeatLookup(repeatStats(x));
  const now = 100 * DAY;
  const u1 = dueItems(
    rows.filter((r) => r.user === 'u1'),
    lookup,
    null,
    now,
  );
  assert.deepEqual(
    u1.map((d) => d.item),
    ['milk'],
    'the lamp was bought once: no habit',
  );
  const milk = u1[0];
  assert.equal(milk.times_bought, 6);
  assert.equal(milk.probability, null);
  assert.equal(milk.last_bought, 95 * DAY * 1000);
  assert.ok(Math.abs(milk.typical_gap_days - 10) < 0.5, `gap ${milk.typical_gap_days}`);
  assert.ok(Math.abs(milk.due_in_days - (milk.typical_gap_days - 5)) < 0.11, 'due: gap − days since');
  assert.equal(nextDueDays(u1), milk.due_in_days);
  assert.deepEqual(
    dueWithin(u1, 7).map((d) => d.item),
    ['milk'],
  );
  assert.deepEqual(dueWithin(u1, 3), []);
  // u2's milk is 70 days late on a 10-day habit: lapsed, not due.
  assert.deepEqual(
    dueItems(
      rows.filter((r) => r.user === 'u2'),
      lookup,
      null,
      now,
    ),
    [],
  );
  assert.equal(nextDueDays([]), null);
});
