// The JSON of a recommendation block, written by hand in the fields and order of the route's
// response schema. Most of a block is its items' catalog fields, which never change within a
// model version: with every field asked for (the usual request), an item's are written once and
// reused by every block that shows it. The schema serializer wrote them anew for each block,
// numbers and escaped strings included: a tenth of a personal block's CPU.
import type { Picked } from '../recommend/filters.ts';
import { imageUrl, productUrl, type LinkTemplates } from '../recommend/links.ts';
import { FIELDS, type Field, type RepeatReason, type Source } from '../recommend/types.ts';
import type { CatalogFields } from '../recommend/types.ts';
import { keptWith } from '../lib/kept-with.ts';
import { blockScores, signalJson } from './scores.ts';

export type FieldSet = Readonly<Record<Field, boolean>>;

export const ALL_FIELDS: FieldSet = Object.fromEntries(FIELDS.map((f) => [f, true])) as Record<Field, boolean>;

export function fieldSet(fields: readonly string[] | undefined): FieldSet {
  if (fields === undefined) return ALL_FIELDS;
  const wanted = new Set<string>(fields);
  return Object.fromEntries(FIELDS.map((f) => [f, wanted.has(f)])) as Record<Field, boolean>;
}

/**
 * Catalog objects are shared through the model cache: their JSON lives as long as they do, and
 * is kept with the link templates it was written with (those of one tenant, the same object
 * until the shop changes them).
 */
const allFieldsJson = keptWith<CatalogFields, LinkTemplates, string>();

/** The item's value of `f`, its URLs filled from the templates (src/recommend/links.ts). */
function fieldValue(fields: CatalogFields, f: Field, links: LinkTemplates): unknown {
  if (f === 'url') return productUrl(fields, links);
  if (f === 'image_url') return imageUrl(fields, links);
  return fields[f];
}

/** `,"title":…,"in_stock":…` for the wanted fields (JSON.stringify: null stays null). */
function catalogJson(fields: CatalogFields, want: FieldSet, links: LinkTemplates): string {
  const write = () => {
    const parts: string[] = [];
    for (const f of FIELDS) if (want[f]) parts.push(`,"${f}":${JSON.stringify(fieldValue(fields, f, links))}`);
    return parts.join('');
  };
  return want === ALL_FIELDS ? allFieldsJson(fields, links, write) : write();
}

export interface RepeatFields {
  times_bought: number;
  /** ISO date-time. */
  last_bought: string;
  typical_gap_days: number;
  due_in_days: number;
}

/** An item's `repeat` as every response shows it (repeatSchema): days to a tenth, more says nothing a shopper could use. */
export function repeatFields(r: RepeatReason): RepeatFields {
  return { times_bought: r.times_bought, last_bought: new Date(r.last_bought).toISOString(), typical_gap_days: round(r.typical_gap_days), due_in_days: round(r.due_in_days) };
}

function repeatJson(r: RepeatReason): string {
  return `,"repeat":${JSON.stringify(repeatFields(r))}`;
}

const round = (days: number) => Math.round(days * 10) / 10;

function itemJson(item: Picked, score: number, want: FieldSet, links: LinkTemplates): string {
  const because = (item.because === undefined ? '' : `,"because":${JSON.stringify(item.because)}`) + (item.repeat === undefined ? '' : repeatJson(item.repeat));
  return `{"id":${JSON.stringify(item.id)},"score":${score},"source":"${item.source}"${signalJson(item)}${because}${catalogJson(item.fields, want, links)}}`;
}

/**
 * The end of a block's body, from `"sources"` on: what follows the per-request head fields.
 * Pieces are joined, not added up with +: V8 keeps a sum of strings as a tree that is walked
 * again whenever a longer string containing it is written out (a cached tail on every request),
 * where a joined string is one flat copy.
 */
export function blockTail(sources: readonly Source[], items: readonly Picked[], want: FieldSet, links: LinkTemplates): string {
  const parts = [`"sources":${JSON.stringify(sources)},"items":[`];
  const scores = blockScores(items);
  for (let i = 0; i < items.length; i++) parts.push(i === 0 ? '' : ',', itemJson(items[i], scores[i], want, links));
  parts.push(']}');
  return parts.join('');
}

// A user's kept result (src/lib/invalidated-cache.ts) is the same object on every hit: its tail is
// written once per field list and link templates, not on every request.
const keptTails = keptWith<readonly Picked[], [fields: string, links: LinkTemplates], string>((a, b) => a[0] === b[0] && a[1] === b[1]);

/** blockTail of `fields` (the query's list), remembered with the items it was written from. */
export function rememberedTail(sources: readonly Source[], items: readonly Picked[], fields: readonly string[] | undefined, links: LinkTemplates): string {
  return keptTails(items, [fields === undefined ? '*' : fields.join(','), links], () => blockTail(sources, items, fieldSet(fields), links));
}
