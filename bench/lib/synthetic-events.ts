// Synthetic event files at shop scale (tens of millions of lines), streamed to disk in the generic
// CSV format, shaped by the bundled data sets measured at run time (nothing of them is copied):
// the mix of views, carts and purchases of REES46, and from UCI Online Retail the spread of
// activity over customers (σ of log lines per customer) and the Zipf exponent of item popularity.
// Users draw half their events from an item cluster of their own (so co-occurrence has
// structure), the rest from overall popularity, as src/eval/synthetic.ts does for 5M events.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { datasetSources, openSource, SHARED_DATA_DIR } from '../../jobs/lib/sources.ts';
import { cumulative, drawIndex, gaussian, Mt19937 } from '../../src/eval/random.ts';

export interface EventShape {
  /** Share of each type among events, summing to 1. */
  types: { view: number; cart: number; purchase: number };
  /** σ of the log-normal activity of users. */
  activitySigma: number;
  /** Zipf exponent of item popularity. */
  itemExponent: number;
}

/** Least-squares slope of y on x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

/** The shape measured on the bundled sets (REES46 for types, UCI for users and items). */
export async function measureShape(dataDir = SHARED_DATA_DIR): Promise<EventShape> {
  const counts = { view: 0, cart: 0, purchase: 0 };
  const lines = createInterface({ input: createReadStream(`${dataDir}rees46-ecommerce-2019-oct-head/events.csv`) });
  for await (const line of lines) {
    const type = line.split(',')[1];
    if (type === 'view' || type === 'cart' || type === 'purchase') counts[type]++;
  }
  const total = counts.view + counts.cart + counts.purchase;
  const perUser = new Map<string, number>();
  const perItem = new Map<string, number>();
  const [{ format, path, name }] = datasetSources('uci', dataDir);
  for await (const row of (await openSource(format, path, name)).rows) {
    if (row.kind !== 'event') continue;
    perUser.set(row.event.user, (perUser.get(row.event.user) ?? 0) + 1);
    perItem.set(row.event.item, (perItem.get(row.event.item) ?? 0) + 1);
  }
  const logs = [...perUser.values()].map(Math.log);
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const activitySigma = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length);
  // Zipf: log count falls linearly with log rank; fitted over the head, where the law holds.
  const ranked = [...perItem.values()].sort((a, b) => b - a).slice(0, 1000);
  const itemExponent = -slope(
    ranked.map((_, r) => Math.log(r + 1)),
    ranked.map(Math.log),
  );
  return { types: { view: counts.view / total, cart: counts.cart / total, purchase: counts.purchase / total }, activitySigma, itemExponent };
}

export interface SyntheticFile {
  events: number;
  users: number;
  items: number;
  /** Events spread uniformly over this many months before `end`. */
  months: number;
  /** Unix seconds of the end of the span. */
  end: number;
  seed: number;
}

const CLUSTER_SIZE = 50;
const CLUSTER_SHARE = 0.5;

/** Writes `spec.events` lines (plus a header) of user_id,item_id,type,timestamp,quantity,price. */
export async function writeSyntheticEvents(path: string, spec: SyntheticFile, shape: EventShape): Promise<void> {
  const rng = new Mt19937(spec.seed);
  const activity = cumulative(spec.users, () => Math.exp(shape.activitySigma * gaussian(rng)));
  const clusters = Math.max(1, Math.floor(spec.items / CLUSTER_SIZE));
  const overall = cumulative(spec.items, (r) => (r + 1) ** -shape.itemExponent);
  const within = cumulative(Math.ceil(spec.items / clusters), (r) => (r + 1) ** -shape.itemExponent);
  const home = new Uint32Array(spec.users);
  for (let u = 0; u < spec.users; u++) home[u] = Math.floor(rng.nextDouble() * clusters);
  const span = spec.months * 30.4375 * 86_400;
  const cartFrom = shape.types.view;
  const purchaseFrom = shape.types.view + shape.types.cart;

  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let chunk = 'user_id,item_id,type,timestamp,quantity,price\n';
  for (let e = 0; e < spec.events; e++) {
    const user = drawIndex(activity, rng.nextDouble());
    let item: number;
    do {
      item = rng.nextDouble() < CLUSTER_SHARE ? home[user] + clusters * drawIndex(within, rng.nextDouble()) : drawIndex(overall, rng.nextDouble());
    } while (item >= spec.items);
    const t = rng.nextDouble();
    const type = t < cartFrom ? 'view' : t < purchaseFrom ? 'cart' : 'purchase';
    const at = spec.end - Math.floor(rng.nextDouble() * span);
    // A fixed price per item, between 1 and 50.
    const price = (1 + (((item * 2654435761) >>> 0) % 4900) / 100).toFixed(2);
    chunk += `u${user},i${item},${type},${at},1,${price}\n`;
    if (chunk.length >= 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(chunk, (err?: Error | null) => (err ? reject(err) : resolve())));
}
