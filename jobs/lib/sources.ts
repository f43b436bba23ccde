// Readers that turn each supported export (the bundled public data sets and the generic
// format) into one stream of normalised rows. Mapping rules per data set are in docs/data-and-import.md.
import type { CatalogFields } from '../../src/recommend/types.ts';
import { EVENT_TYPES, type EventType } from '../../src/config.ts';
import { FORBIDDEN_IN_ID, MAX_ID_LENGTH } from '../../src/ids.ts';
import { columnIndex, openCsv, type CsvFile, type CsvRow, type TextEncoding } from './csv.ts';
import { parseTimestamp } from './timestamps.ts';

export interface EventRecord {
  user: string;
  item: string;
  type: EventType;
  quantity: number;
  price: number | null;
  /** Explicit interaction strength (a rating); null means "use the weight of the type". */
  weight: number | null;
  occurredAt: Date;
}

/** A catalog row as read: the same record the build publishes per item. */
export type ProductRecord = CatalogFields;

export type SourceRow =
  | { kind: 'event'; line: number; event: EventRecord }
  | { kind: 'product'; line: number; product: ProductRecord }
  /** A well-formed row that the data set's rules leave out (a cancellation, a guest order...). */
  | { kind: 'skip'; line: number; reason: string }
  /** A malformed row: reported with its line number, never loaded. */
  | { kind: 'reject'; line: number; reason: string };

export interface SourceFile {
  /** Name used in idempotency keys and reports; re-importing the same file yields the same keys. */
  name: string;
  path: string;
  csv: CsvFile;
  rows: AsyncIterable<SourceRow>;
}

export const MAX_TEXT_LENGTH = 1000;

export const DATASETS = ['rees46', 'uci', 'completejourney'] as const;
export type Dataset = (typeof DATASETS)[number];

export const SHARED_DATA_DIR = new URL('../../../shared/data/', import.meta.url).pathname;

/** The files of a bundled data set, in load order (catalog before events). */
export function datasetFiles(dataset: Dataset, dataDir = SHARED_DATA_DIR): { kind: 'events' | 'products' | 'both'; path: string }[] {
  switch (dataset) {
    case 'rees46':
      return [{ kind: 'both', path: `${dataDir}rees46-ecommerce-2019-oct-head/events.csv` }];
    case 'uci':
      return [{ kind: 'both', path: `${dataDir}uci-online-retail/online_retail.csv.gz` }];
    case 'completejourney':
      return [
        { kind: 'products', path: `${dataDir}completejourney-2017-sample/products.csv.gz` },
        { kind: 'events', path: `${dataDir}completejourney-2017-sample/transactions_sample.csv.gz` },
      ];
  }
}

class RowError extends Error {}

function required(fields: string[], index: number, name: string, maxLength = MAX_ID_LENGTH): string {
  const value = (fields[index] ?? '').trim();
  if (!value) throw new RowError(`${name} is empty`);
  // Characters as the API counts them (an emoji is one), not UTF-16 units.
  if (value.length > maxLength && [...value].length > maxLength) throw new RowError(`${name} is longer than ${maxLength} characters`);
  // The API refuses such ids (src/ids.ts): an import must not store what no request can name.
  if (FORBIDDEN_IN_ID.test(value)) throw new RowError(`${name} contains a control character`);
  return value;
}

function optionalText(fields: string[], index: number): string | null {
  if (index < 0) return null;
  const value = (fields[index] ?? '').trim();
  return value ? value.slice(0, MAX_TEXT_LENGTH) : null;
}

function number(fields: string[], index: number, name: string): number {
  const raw = (fields[index] ?? '').trim();
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) throw new RowError(`${name} "${raw}" is not a number`);
  return value;
}

function optionalNumber(fields: string[], index: number, name: string): number | null {
  if (index < 0 || (fields[index] ?? '').trim() === '') return null;
  return number(fields, index, name);
}

function timestamp(fields: string[], index: number, name: string): Date {
  const raw = (fields[index] ?? '').trim();
  const date = parseTimestamp(raw);
  if (!date) throw new RowError(`${name} "${raw}" is not a timestamp`);
  return date;
}

function needColumns(csv: CsvFile, path: string, columns: Record<string, number>): void {
  const missing = Object.entries(columns)
    .filter(([, i]) => i < 0)
    .map(([name]) => name);
  if (missing.length) throw new Error(`${path}: missing column(s) ${missing.join(', ')} in header "${csv.header.join(',')}"`);
}

/** Applies `map` to every row, turning its RowErrors into rejects with the line number. */
async function* mapRows(csv: CsvFile, map: (row: CsvRow) => SourceRow | SourceRow[]): AsyncIterable<SourceRow> {
  const width = csv.header.length;
  for await (const row of csv.rows) {
    if (row.unreadable !== undefined) {
      yield { kind: 'reject', line: row.line, reason: row.unreadable };
      continue;
    }
    if (row.fields.length !== width) {
      yield { kind: 'reject', line: row.line, reason: `expected ${width} fields, found ${row.fields.length}` };
      continue;
    }
    try {
      const out = map(row);
      if (Array.isArray(out)) yield* out;
      else yield out;
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      yield { kind: 'reject', line: row.line, reason: err.message };
    }
  }
}

function titleCase(s: string): string {
  return s.replace(/(^|[\s_-])([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

// --- REES46: one row per view/cart/purchase, with the product's brand, category and price.
function rees46Rows(csv: CsvFile, path: string): AsyncIterable<SourceRow> {
  const c = {
    event_time: columnIndex(csv.header, 'event_time'),
    event_type: columnIndex(csv.header, 'event_type'),
    product_id: columnIndex(csv.header, 'product_id'),
    category_id: columnIndex(csv.header, 'category_id'),
    category_code: columnIndex(csv.header, 'category_code'),
    brand: columnIndex(csv.header, 'brand'),
    price: columnIndex(csv.header, 'price'),
    user_id: columnIndex(csv.header, 'user_id'),
  };
  needColumns(csv, path, c);
  return mapRows(csv, ({ line, fields }) => {
    const type = required(fields, c.event_type, 'event_type');
    if (type === 'remove_from_cart') return { kind: 'skip', line, reason: 'remove_from_cart event' };
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new RowError(`event_type "${type}" is not one of ${EVENT_TYPES.join(', ')}`);
    const item = required(fields, c.product_id, 'product_id');
    const price = optionalNumber(fields, c.price, 'price');
    const brand = optionalText(fields, c.brand);
    const categoryCode = optionalText(fields, c.category_code);
    const leaf = categoryCode ? categoryCode.split('.').pop()!.replace(/_/g, ' ') : null;
    const product: ProductRecord = {
      id: item,
      brand,
      category: categoryCode ?? optionalText(fields, c.category_id),
      // The data set has no product names: brand + category leaf reads well in a block.
      title: [brand && titleCase(brand), leaf].filter(Boolean).join(' ') || `Product ${item}`,
      price,
      currency: 'USD',
      url: null,
      image_url: null,
      in_stock: true,
    };
    const event: EventRecord = {
      user: required(fields, c.user_id, 'user_id'),
      item,
      type: type as EventType,
      quantity: 1,
      price,
      weight: null,
      occurredAt: timestamp(fields, c.event_time, 'event_time'),
    };
    return [
      { kind: 'product', line, product },
      { kind: 'event', line, event },
    ];
  });
}

// Non-product stock codes of UCI Online Retail (postage, fees, manual adjustments...).
const UCI_NON_PRODUCT = /^(POST|DOT|M|C2|D|S|BANK CHARGES|AMAZONFEE|CRUK|PADS|B|DCGS.*|gift_0001_.*)$/i;

// --- UCI Online Retail: order lines; purchases are identified, non-cancelled, positive lines.
function uciRows(csv: CsvFile, path: string): AsyncIterable<SourceRow> {
  const c = {
    InvoiceNo: columnIndex(csv.header, 'InvoiceNo'),
    StockCode: columnIndex(csv.header, 'StockCode'),
    Description: columnIndex(csv.header, 'Description'),
    Quantity: columnIndex(csv.header, 'Quantity'),
    InvoiceDate: columnIndex(csv.header, 'InvoiceDate'),
    UnitPrice: columnIndex(csv.header, 'UnitPrice'),
    CustomerID: columnIndex(csv.header, 'CustomerID'),
  };
  needColumns(csv, path, c);
  return mapRows(csv, ({ line, fields }) => {
    const invoice = required(fields, c.InvoiceNo, 'InvoiceNo');
    const item = required(fields, c.StockCode, 'StockCode');
    const quantity = number(fields, c.Quantity, 'Quantity');
    const price = number(fields, c.UnitPrice, 'UnitPrice');
    const occurredAt = timestamp(fields, c.InvoiceDate, 'InvoiceDate');
    if (UCI_NON_PRODUCT.test(item)) return { kind: 'skip', line, reason: 'non-product stock code' };
    if (/^[CA]/i.test(invoice)) return { kind: 'skip', line, reason: 'cancellation or adjustment invoice' };
    if (quantity <= 0 || price <= 0) return { kind: 'skip', line, reason: 'quantity or price not positive' };
    const description = optionalText(fields, c.Description);
    const rows: SourceRow[] = [];
    if (description) {
      rows.push({
        kind: 'product',
        line,
        product: {
          id: item,
          title: titleCase(description.toLowerCase()),
          brand: null,
          category: null,
          price,
          currency: 'GBP',
          url: null,
          image_url: null,
          in_stock: true,
        },
      });
    }
    const user = (fields[c.CustomerID] ?? '').trim();
    if (!user) rows.push({ kind: 'skip', line, reason: 'guest order (no CustomerID)' });
    else rows.push({ kind: 'event', line, event: { user, item, type: 'purchase', quantity, price, weight: null, occurredAt } });
    return rows;
  });
}

// --- The Complete Journey: product table (manufacturer as the brand) and purchase lines.
function completeJourneyProducts(csv: CsvFile, path: string): AsyncIterable<SourceRow> {
  const c = {
    product_id: columnIndex(csv.header, 'product_id'),
    manufacturer_id: columnIndex(csv.header, 'manufacturer_id'),
    department: columnIndex(csv.header, 'department'),
    product_category: columnIndex(csv.header, 'product_category'),
    product_type: columnIndex(csv.header, 'product_type'),
    package_size: columnIndex(csv.header, 'package_size'),
  };
  needColumns(csv, path, c);
  return mapRows(csv, ({ line, fields }) => {
    const manufacturer = optionalText(fields, c.manufacturer_id);
    const name = optionalText(fields, c.product_type) ?? optionalText(fields, c.product_category) ?? optionalText(fields, c.department);
    const size = optionalText(fields, c.package_size);
    return {
      kind: 'product',
      line,
      product: {
        id: required(fields, c.product_id, 'product_id'),
        title: name ? titleCase(name.toLowerCase()) + (size ? ` ${size}` : '') : null,
        brand: manufacturer ? `mfr-${manufacturer}` : null,
        category: optionalText(fields, c.product_category) ?? optionalText(fields, c.department),
        price: null,
        currency: 'USD',
        url: null,
        image_url: null,
        in_stock: true,
      },
    };
  });
}

function completeJourneyTransactions(csv: CsvFile, path: string): AsyncIterable<SourceRow> {
  const c = {
    household_id: columnIndex(csv.header, 'household_id'),
    product_id: columnIndex(csv.header, 'product_id'),
    quantity: columnIndex(csv.header, 'quantity'),
    sales_value: columnIndex(csv.header, 'sales_value'),
    transaction_timestamp: columnIndex(csv.header, 'transaction_timestamp'),
  };
  needColumns(csv, path, c);
  return mapRows(csv, ({ line, fields }) => {
    const quantity = number(fields, c.quantity, 'quantity');
    const sales = number(fields, c.sales_value, 'sales_value');
    const event: EventRecord = {
      user: required(fields, c.household_id, 'household_id'),
      item: required(fields, c.product_id, 'product_id'),
      type: 'purchase',
      quantity,
      price: null,
      weight: null,
      occurredAt: timestamp(fields, c.transaction_timestamp, 'transaction_timestamp'),
    };
    if (quantity <= 0 || sales <= 0) return { kind: 'skip', line, reason: 'quantity or sales_value not positive' };
    event.price = Math.round((sales / quantity) * 100) / 100;
    return { kind: 'event', line, event };
  });
}

// --- Generic: events file (user, item, type or weight, timestamp [, quantity, price]).
function genericEvents(csv: CsvFile, path: string): AsyncIterable<SourceRow> {
  const h = csv.header;
  const c = {
    user: columnIndex(h, 'user_id', 'user', 'userid', 'customer_id', 'visitorid'),
    item: columnIndex(h, 'item_id', 'item', 'itemid', 'product_id', 'sku'),
    type: columnIndex(h, 'type', 'event_type', 'event', 'weight', 'rating'),
    time: columnIndex(h, 'timestamp', 'occurred_at', 'time', 'ts', 'event_time'),
  };
  needColumns(csv, path, c);
  const quantity = columnIndex(h, 'quantity', 'qty');
  const price = columnIndex(h, 'price', 'unit_price');
  return mapRows(csv, ({ line, fields }) => {
    const typeOrWeight = required(fields, c.type, h[c.type]);
    const isType = (EVENT_TYPES as readonly string[]).includes(typeOrWeight);
    const weight = isType ? null : Number(typeOrWeight);
    if (weight !== null && !(Number.isFinite(weight) && weight >= 0)) {
      throw new RowError(`${h[c.type]} "${typeOrWeight}" is neither an event type (${EVENT_TYPES.join('|')}) nor a number >= 0`);
    }
    return {
      kind: 'event',
      line,
      event: {
        user: required(fields, c.user, h[c.user]),
        item: required(fields, c.item, h[c.item]),
        // A bare weight (a rating, a count) is an interaction of unknown kind: counted like a purchase.
        type: isType ? (typeOrWeight as EventType) : 'purchase',
        weight,
        quantity: quantity >= 0 && fields[quantity]?.trim() ? Math.trunc(number(fields, quantity, 'quantity')) : 1,
        price: optionalNumber(fields, price, 'price'),
        occurredAt: timestamp(fields, c.time, h[c.time]),
      },
    };
  });
}

function genericProducts(csv: CsvFile, path: string): AsyncIterable<SourceRow> {
  const h = csv.header;
  const c = { id: columnIndex(h, 'id', 'item_id', 'product_id', 'sku') };
  needColumns(csv, path, c);
  const col = {
    title: columnIndex(h, 'title', 'name'),
    brand: columnIndex(h, 'brand', 'manufacturer'),
    category: columnIndex(h, 'category'),
    price: columnIndex(h, 'price'),
    currency: columnIndex(h, 'currency'),
    url: columnIndex(h, 'url', 'link'),
    image: columnIndex(h, 'image_url', 'image'),
    stock: columnIndex(h, 'in_stock', 'available'),
  };
  return mapRows(csv, ({ line, fields }) => {
    const stock = col.stock >= 0 ? (fields[col.stock] ?? '').trim().toLowerCase() : '';
    if (stock && !['true', 'false', '1', '0', 'yes', 'no'].includes(stock)) throw new RowError(`in_stock "${stock}" is not a boolean`);
    return {
      kind: 'product',
      line,
      product: {
        id: required(fields, c.id, h[c.id]),
        title: optionalText(fields, col.title),
        brand: optionalText(fields, col.brand),
        category: optionalText(fields, col.category),
        price: optionalNumber(fields, col.price, 'price'),
        currency: optionalText(fields, col.currency),
        url: optionalText(fields, col.url),
        image_url: optionalText(fields, col.image),
        in_stock: !['false', '0', 'no'].includes(stock),
      },
    };
  });
}

export type SourceFormat = 'rees46' | 'uci' | 'completejourney-products' | 'completejourney-transactions' | 'generic-events' | 'generic-products';

const READERS: Record<SourceFormat, (csv: CsvFile, path: string) => AsyncIterable<SourceRow>> = {
  rees46: rees46Rows,
  uci: uciRows,
  'completejourney-products': completeJourneyProducts,
  'completejourney-transactions': completeJourneyTransactions,
  'generic-events': genericEvents,
  'generic-products': genericProducts,
};

export async function openSource(format: SourceFormat, path: string, name: string, encoding?: TextEncoding): Promise<SourceFile> {
  const csv = await openCsv(path, { encoding });
  return { name, path, csv, rows: READERS[format](csv, path) };
}

/** A file to read and the reader (format) it needs; `name` as in SourceFile. */
export interface SourceRef {
  format: SourceFormat;
  path: string;
  name: string;
}

/** The source files of a bundled data set, with the reader of each. */
export function datasetSources(dataset: Dataset, dataDir?: string): SourceRef[] {
  return datasetFiles(dataset, dataDir).map(({ kind, path }) => {
    const format: SourceFormat = dataset === 'completejourney' ? `completejourney-${kind === 'products' ? 'products' : 'transactions'}` : dataset;
    return { format, path, name: kind === 'products' ? `${dataset}-products` : dataset };
  });
}
