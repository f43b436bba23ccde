// Purchase days, the calibration split, BG/NBD and spend inputs, and customer summaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { purchaseDays, repeatSpend, rftData, splitAtDay, type Purchase } from '../../src/lifecycle/purchase-days.ts';
import { summarizeCustomers } from '../../src/lifecycle/summary.ts';

const DAY = 86_400;
const at = (day: number, hour = 12) => day * DAY + hour * 3600;

// Day 100 is a Saturday; 103 and 110 Tuesdays, 105 a Thursday (1970-01-01, day 0, was a Thursday).
const PURCHASES: Purchase[] = [
  { user: 'b', ts: at(100, 10), revenue: 5 },
  { user: 'b', ts: at(100, 15), revenue: 7 },
  { user: 'a', ts: at(105), revenue: 3 },
  { user: 'b', ts: at(103), revenue: 2 },
  { user: 'c', ts: at(120), revenue: 9 },
  { user: 'b', ts: at(110), revenue: 10 },
  { user: 'b', ts: at(105), revenue: 4 },
  { user: 'b', ts: at(118), revenue: 1 },
];

test('purchases become distinct UTC days per customer, same-day revenue added up', () => {
  const days = purchaseDays(PURCHASES);
  assert.deepEqual(days.userIds, ['a', 'b', 'c']);
  assert.deepEqual([...days.start], [0, 1, 6, 7]);
  assert.deepEqual([...days.day], [105, 100, 103, 105, 110, 118, 120]);
  assert.deepEqual([...days.revenue], [3, 12, 2, 4, 10, 1, 9]);
  // 23:59:59 and 00:00:00 are different days.
  const edge = purchaseDays([
    { user: 'u', ts: 5 * DAY - 1, revenue: 1 },
    { user: 'u', ts: 5 * DAY, revenue: 1 },
  ]);
  assert.deepEqual([...edge.day], [4, 5]);
  assert.throws(() => purchaseDays([{ user: 'u', ts: 0, revenue: -1 }]), /revenue -1/);
  assert.throws(() => purchaseDays([{ user: 'u', ts: -DAY, revenue: 1 }]), /outside 1970/);
});

test('calibration split: days up to the end day, later purchase days counted, late first-timers apart', () => {
  const { calibration, holdoutPurchases, newInHoldout } = splitAtDay(purchaseDays(PURCHASES), 115);
  assert.deepEqual(calibration.userIds, ['a', 'b']);
  assert.deepEqual([...calibration.day], [105, 100, 103, 105, 110]);
  assert.deepEqual([...holdoutPurchases], [0, 1]);
  assert.equal(newInHoldout, 1);

  const days = rftData(calibration, 115, 'day');
  assert.deepEqual([...days.x], [0, 3]);
  assert.deepEqual([...days.tx], [0, 10]);
  assert.deepEqual([...days.T], [10, 15]);
  const weeks = rftData(calibration, 115, 'week');
  assert.deepEqual([...weeks.tx], [0, 10 / 7]);
  assert.deepEqual([...weeks.T], [10 / 7, 15 / 7]);
  assert.throws(() => rftData(calibration, 109, 'day'), /buys after the end day/);

  // b's repeat days (after day 100) spent 2, 4 and 10.
  assert.deepEqual([...repeatSpend(calibration)], [0, 16 / 3]);
});

test('summary by day: orders, revenue, order value, gaps and the next expected purchase', () => {
  const { calibration } = splitAtDay(purchaseDays(PURCHASES), 115);
  const s = summarizeCustomers(calibration, 'day');
  assert.deepEqual([...s.orders], [1, 4]);
  assert.deepEqual([...s.revenue], [3, 28]);
  assert.deepEqual([...s.averageOrderValue], [3, 7]);
  assert.deepEqual([...s.firstDay], [105, 100]);
  assert.deepEqual([...s.lastDay], [105, 110]);
  // b's gaps: 3, 2, 5 days.
  assert.ok(Number.isNaN(s.meanGapDays[0]) && Number.isNaN(s.medianGapDays[0]) && Number.isNaN(s.expectedNextDay[0]));
  assert.equal(s.meanGapDays[1], 10 / 3);
  assert.equal(s.medianGapDays[1], 3);
  assert.equal(s.expectedNextDay[1], 113);
});

test('summary by week: Monday-to-Sunday weeks are the orders', () => {
  const { calibration } = splitAtDay(purchaseDays(PURCHASES), 115);
  const s = summarizeCustomers(calibration, 'week');
  // b: Sat 100 | Tue 103 + Thu 105 | Tue 110 → 3 orders starting on days 100, 103, 110.
  assert.equal(s.orders[1], 3);
  assert.equal(s.averageOrderValue[1], 28 / 3);
  assert.equal(s.meanGapDays[1], 5);
  assert.equal(s.medianGapDays[1], 5);
  assert.equal(s.expectedNextDay[1], 115);

  const iso = (date: string) => Date.parse(`${date}T12:00:00Z`) / 1000;
  const weeks = (dates: string[]) => summarizeCustomers(purchaseDays(dates.map((d) => ({ user: 'u', ts: iso(d), revenue: 1 }))), 'week').orders[0];
  assert.equal(weeks(['2024-01-07', '2024-01-08']), 2, 'Sunday, then Monday: two weeks');
  assert.equal(weeks(['2024-01-08', '2024-01-14']), 1, 'Monday to Sunday: one week');
});
