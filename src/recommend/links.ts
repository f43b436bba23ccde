// An item's product page and image as every answer gives them: the catalog's own URL when it is
// a web URL, else the shop's template with the item's id. Anything else the catalog holds
// (`javascript:`, a relative path) is no link: answers go into pages and emails as they are.
// Free of other modules: the config checks its templates here.

/** `{id}` = the URL-encoded item id; '' = none. */
export interface LinkTemplates {
  readonly product: string;
  readonly image: string;
}

export const NO_LINK_TEMPLATES: LinkTemplates = Object.freeze({ product: '', image: '' });

export function isWebUrl(url: string): boolean {
  return /^https?:\/\/[^\s/?#]+/i.test(url) && URL.canParse(url);
}

function linked(own: string | null, id: string, template: string): string | null {
  if (own !== null && isWebUrl(own)) return own;
  if (template === '') return null;
  const url = template.replaceAll('{id}', encodeURIComponent(id));
  return isWebUrl(url) ? url : null;
}

// Catalog objects are shared through the model cache, and a block shows the same items again and
// again: each one's links are worked out once per link templates (the same object until changed).
const resolved = new WeakMap<object, { templates: LinkTemplates; product?: string | null; image?: string | null }>();

function resolvedOf(fields: object, templates: LinkTemplates) {
  let links = resolved.get(fields);
  if (links?.templates !== templates) resolved.set(fields, (links = { templates }));
  return links;
}

export function productUrl(fields: { id: string; url: string | null }, templates: LinkTemplates): string | null {
  const links = resolvedOf(fields, templates);
  if (links.product === undefined) links.product = linked(fields.url, fields.id, templates.product);
  return links.product;
}

export function imageUrl(fields: { id: string; image_url: string | null }, templates: LinkTemplates): string | null {
  const links = resolvedOf(fields, templates);
  if (links.image === undefined) links.image = linked(fields.image_url, fields.id, templates.image);
  return links.image;
}

/** A template as a shop may set it: empty, or a web URL once `{id}` is filled. */
export function checkTemplate(template: string, name: string): string {
  if (template !== '' && !isWebUrl(template.replaceAll('{id}', 'x'))) throw new Error(`${name} must be an http(s) URL with {id} where the item id goes, e.g. https://shop.example/p/{id}`);
  return template;
}
