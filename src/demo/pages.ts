// The demo storefront's pages, rendered on the server: a home page and a page per product, each
// with <recs-widget> blocks as a shop would paste them (docs/widget.md). Pure: what a page shows
// comes in as values.
import { html, Markup } from '../lib/html.ts';
import { formatPrice } from '../lib/price.ts';
import type { Product } from './shop-data.ts';

export interface Shop {
  tenant: string;
  name: string;
  /** The API as browsers reach it. */
  api: string;
  /** The shop's browser key: read-only, bound to the storefront's origin. */
  browserKey: string;
}

export interface Visitor {
  id: string;
  /** Signed by the shop's backend (USER_TOKEN_SECRET): lets the browser key read this visitor's blocks. */
  token: string;
  /** One of the shop's sample customers (else a new, anonymous visitor). */
  sample: boolean;
}

const STYLE = new Markup(`
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #fafafa; }
  body { margin: 0; }
  header { background: #1d2330; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header a { color: #fff; } header .shop { font-size: 1.3em; font-weight: 700; text-decoration: none; }
  header .who { margin-left: auto; font-size: .9em; opacity: .9; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
  recs-widget { display: block; margin: 28px 0; --recs-card-min: 150px; --recs-card-bg: #fff; --recs-card-padding: 8px; }
  .product { display: grid; grid-template-columns: minmax(200px, 360px) 1fr; gap: 32px; align-items: start; }
  .product img { width: 100%; height: auto; aspect-ratio: 1; border-radius: 8px; }
  .price { font-size: 1.5em; font-weight: 700; }
  button { font: inherit; padding: 10px 20px; border: 0; border-radius: 6px; background: #0b6bcb; color: #fff; cursor: pointer; }
  button:disabled { background: #5b8c5a; cursor: default; }
  .shops a { display: block; font-size: 1.2em; margin: 8px 0; }
  .muted { color: #5d6575; }
`);

function layout(title: string, head: Markup | string, body: Markup): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,"><style>${STYLE}</style>${head}</head>
<body>${body}</body></html>`.text;
}

// The widget script in <head>, without async: each block reserves its space before first paint.
const widgetScript = (shop: Shop) => html`<script src="${shop.api}/widget.js"></script>`;

function header(shop: Shop, visitor: Visitor): Markup {
  return html`<header><a class="shop" href="/demo/${shop.tenant}/">${shop.name}</a><a href="/demo/">all shops</a>
<span class="who">Shopping as <b>${visitor.id}</b> ${visitor.sample ? 'a sample customer' : '(a new visitor)'} · <a href="/demo/${shop.tenant}/as/new">start over</a></span></header>`;
}

interface Block {
  strategy: string;
  title: string;
  item?: string;
  personal?: boolean;
  limit?: number;
  /** Only the strategy's own items: an empty block shows nothing. */
  own?: boolean;
}

function widget(shop: Shop, visitor: Visitor, b: Block): Markup {
  const personal = b.personal === true;
  return html`<recs-widget api="${shop.api}" key="${shop.browserKey}" strategy="${b.strategy}" title="${b.title}" limit="${b.limit ?? 6}"${
    b.item === undefined ? '' : html` item="${b.item}"`
  }${personal ? html` user="${visitor.id}" user-token="${visitor.token}"` : ''}${b.own ? html` fallback="false"` : ''}></recs-widget>`;
}

export function indexPage(shops: readonly Pick<Shop, 'tenant' | 'name'>[]): string {
  return layout(
    'recs demo shops',
    '',
    html`<main><h1>Demo shops</h1>
<p class="muted">One recommendations service, one tenant per shop: each shop sees only its own catalog, customers and model.</p>
<nav class="shops">${shops.map((s) => html`<a href="/demo/${s.tenant}/">${s.name}</a>`)}</nav></main>`,
  );
}

export function homePage(shop: Shop, visitor: Visitor, samples: readonly string[]): string {
  const w = (b: Block) => widget(shop, visitor, b);
  return layout(
    shop.name,
    widgetScript(shop),
    html`${header(shop, visitor)}<main>
${w({ strategy: 'buy-again', title: 'Buy it again', personal: true, own: true })}
${w({ strategy: 'for-you', title: 'Picked for you', personal: true, limit: 12 })}
${w({ strategy: 'recently-viewed', title: 'Recently viewed', personal: true, own: true })}
${w({ strategy: 'popular', title: 'Popular now', limit: 12 })}
<section><h2>Shop as a sample customer</h2>
<p class="muted">Customers of this shop's data set with the longest purchase history: their blocks show what the model knows of them.</p>
<p>${samples.map((u) => html`<a href="/demo/${shop.tenant}/as/${encodeURIComponent(u)}">${u}</a> `)}</p></section>
</main>`,
  );
}

export function productPage(shop: Shop, visitor: Visitor, p: Product): string {
  const w = (b: Block) => widget(shop, visitor, b);
  const name = p.title ?? p.id;
  const facts = [p.brand, p.category].filter((f): f is string => f !== null);
  return layout(
    `${name} · ${shop.name}`,
    widgetScript(shop),
    html`${header(shop, visitor)}<main>
<div class="product"><img src="/demo/${shop.tenant}/img/${encodeURIComponent(p.id)}.svg" alt="${name}" width="360" height="360">
<div><h1>${name}</h1><p class="muted">${facts.join(' · ')}</p><p class="price">${formatPrice(p.price, p.currency)}</p>
<button type="button" id="add" data-item="${p.id}" data-user="${visitor.id}"${p.price === null ? '' : html` data-price="${p.price}"`}>Add to cart</button></div></div>
${w({ strategy: 'collaborative', title: 'Customers who bought this also bought', item: p.id })}
${p.brand === null ? '' : w({ strategy: 'same-brand', title: `More from ${p.brand}`, item: p.id })}
${w({ strategy: 'recently-viewed', title: 'Recently viewed', personal: true, own: true })}
</main>
<script>
  // The cart event goes to this shop's backend (a browser key cannot write events), with the
  // request_id of the block the visitor came from (recs.track, docs/widget.md).
  document.getElementById('add').addEventListener('click', async (e) => {
    const button = e.currentTarget;
    const { item, user, price } = button.dataset;
    const event = window.recs.track('cart', { item, user, price: price === undefined ? undefined : Number(price), quantity: 1 });
    const res = await fetch('/demo/${shop.tenant}/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    button.textContent = res.ok ? 'Added to cart ✓' : 'Could not add: try again';
    button.disabled = res.ok;
  });
</script>`,
  );
}

export function notFoundPage(what: string): string {
  return layout('Not found', '', html`<main><h1>Not found</h1><p>${what}</p><p><a href="/demo/">All shops</a></p></main>`);
}
