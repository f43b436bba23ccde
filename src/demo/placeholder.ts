// The demo storefront's product images: an SVG drawn from the item's id and name, so the shop
// has a picture per product without fetching anything.
import { createHash } from 'node:crypto';
import { escapeHtml } from '../lib/html.ts';

const SIZE = 400;

/** Up to two letters of the name's first words ("Red Mug" → "RM"); the id's when there is no name. */
export function initials(name: string): string {
  const words = name.match(/[\p{L}\p{N}]+/gu) ?? [];
  return (
    words
      .slice(0, 2)
      .map((w) => w[0].toUpperCase())
      .join('') || '?'
  );
}

/** The same id always gets the same two colours. */
export function placeholderSvg(id: string, name: string | null): string {
  const hash = createHash('sha256').update(id).digest();
  const hue = (hash[0] * 256 + hash[1]) % 360;
  const label = name ?? id;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" role="img" aria-label="${escapeHtml(label)}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue} 55% 62%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360} 60% 42%)"/></linearGradient></defs>` +
    `<rect width="${SIZE}" height="${SIZE}" fill="url(#g)"/>` +
    `<text x="50%" y="54%" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" font-size="140" font-weight="700" fill="#fff" fill-opacity=".9">${escapeHtml(initials(label))}</text>` +
    '</svg>'
  );
}
