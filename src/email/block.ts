// A recommendation block as an email shows it: the items with their tracked links (JSON), and the
// same block as template values (HTML). Pure: the signing secret and the clock come in as values.
import type { Picked } from '../recommend/filters.ts';
import type { Source, Strategy } from '../recommend/types.ts';
import { imageUrl, productUrl, type LinkTemplates } from '../recommend/links.ts';
import { repeatFields, type RepeatFields } from '../http/block-json.ts';
import { keptWith } from '../lib/kept-with.ts';
import { formatPrice } from '../lib/price.ts';
import { encodeClickTokens, type Click } from './click-token.ts';
import type { TemplateContext } from './template.ts';

export interface BlockItem {
  /** 1-based. */
  position: number;
  id: string;
  title: string;
  price: number | null;
  currency: string | null;
  /** http(s) only; anything else the catalog holds is left out. */
  image_url: string | null;
  /** The click-tracking link (GET /v1/r/{token}); null when the item has no product page. */
  link: string | null;
  source: Source;
  because?: string;
  /** buy-again: the user's own history of the item. */
  repeat?: RepeatFields;
}

export interface Block {
  request_id: string;
  /** The strategy that ran (the variant's, in an experiment). */
  strategy: Strategy;
  experiment?: string;
  variant?: string;
  /** null: no model was live, or the block came from the popular fallback. */
  model_version: number | null;
  /** Present (true) when the block is the popular fallback (the model was missing, slow or down), or the user's opt-out was not known. */
  degraded?: true;
  /** Present (true) when the user opted out of personalisation: the block ignores their history. */
  opted_out?: true;
  mail_id?: string;
  items: BlockItem[];
}

export interface LinkContext {
  secret: string;
  /** Unix seconds. */
  expiresAt: number;
  /** e.g. https://recs.example.com (no trailing slash). */
  baseUrl: string;
  /** The shop's product page and image templates. */
  templates: LinkTemplates;
}

type BlockHead = { tenant: string; requestId: string; user: string | null; variant: string | null };

// A user's kept result (src/lib/invalidated-cache.ts) is the same list of items on every hit, and
// its links come out byte-identical all day (sealed deterministically, expiring at a day's end):
// an ESP fetching the block again (HTML and text parts, retries) gets them made once.
const made = keptWith<readonly Picked[], [head: BlockHead, links: LinkContext], BlockItem[]>((a, b) => sameFields(a[0], b[0]) && sameFields(a[1], b[1]));

/** The block's items, each with its signed click link. */
export function blockItems(picked: readonly Picked[], head: BlockHead, links: LinkContext): BlockItem[] {
  return made(picked, [head, links], () => makeItems(picked, head, links));
}

function sameFields<T extends object>(a: T, b: T): boolean {
  for (const key in a) if (a[key] !== b[key]) return false;
  return true;
}

function makeItems(picked: readonly Picked[], head: BlockHead, links: LinkContext): BlockItem[] {
  // Items without a product page get no link; the others' tokens are sealed together, by position.
  const linked: Click[] = [];
  for (const [i, p] of picked.entries()) {
    const target = productUrl(p.fields, links.templates);
    if (target !== null) linked.push({ tenant: head.tenant, requestId: head.requestId, user: head.user, item: p.id, position: i + 1, variant: head.variant, target });
  }
  const tokens = encodeClickTokens(linked, links.secret, links.expiresAt);
  let next = 0;
  return picked.map((p, i) => {
    const f = p.fields;
    const position = i + 1;
    const token = linked[next]?.position === position ? tokens[next++] : undefined;
    return {
      position,
      id: p.id,
      title: f.title ?? p.id,
      price: f.price,
      currency: f.currency,
      image_url: imageUrl(f, links.templates),
      link: token === undefined ? null : `${links.baseUrl}/v1/r/${token}`,
      source: p.source,
      because: p.because,
      repeat: p.repeat === undefined ? undefined : repeatFields(p.repeat),
    };
  });
}

/** Every name a template may use: see templates/README.md. */
export const TEMPLATE_NAMES: ReadonlySet<string> = new Set([
  'request_id',
  'strategy',
  'experiment',
  'variant',
  'model_version',
  'degraded',
  'items',
  'rows',
  'cells',
  'cell_width',
  'position',
  'id',
  'title',
  'price',
  'currency',
  'image_url',
  'link',
  'source',
]);

/** The block as template values: items (a list) and the same items in rows of `columns` cells. */
export function templateContext(block: Block, columns: number): TemplateContext {
  const items: TemplateContext[] = block.items.map((item) => ({
    position: item.position,
    id: item.id,
    title: item.title,
    price: formatPrice(item.price, item.currency),
    currency: item.currency,
    image_url: item.image_url,
    link: item.link,
    source: item.source,
  }));
  const rows: TemplateContext[] = [];
  for (let i = 0; i < items.length; i += columns) rows.push({ cells: items.slice(i, i + columns) });
  return {
    request_id: block.request_id,
    strategy: block.strategy,
    experiment: block.experiment,
    variant: block.variant,
    model_version: block.model_version ?? undefined,
    degraded: block.degraded,
    items,
    rows,
    cell_width: Math.floor(100 / columns),
  };
}
