// The RFM segments as the API names and explains them: a URL-safe slug per segment and, for
// marketers, who is in it and what usually works (the same words as docs/lifecycle.md).
import { RFM_MAP, SEGMENTS, type Segment } from './rfm.ts';

/** "Can't lose" → "cant-lose", "Potential loyalist" → "potential-loyalist". */
export function segmentSlug(segment: Segment): string {
  return segment.toLowerCase().replace(/'/g, '').replace(/ /g, '-');
}

export const SEGMENT_SLUGS: readonly string[] = SEGMENTS.map(segmentSlug);

const BY_SLUG = new Map(SEGMENTS.map((s) => [segmentSlug(s), s]));

/** The segment of a slug; undefined when there is none. */
export function segmentOfSlug(slug: string): Segment | undefined {
  return BY_SLUG.get(slug);
}

const GUIDE: Record<Segment, [who: string, works: string]> = {
  Champions: ['bought very recently, buy often and spend the most', 'reward them; early access, new products; ask for reviews and referrals'],
  Loyal: ['buy often and spend well, a little less recently than the champions', 'loyalty programme, upsell higher-value items, keep them in touch'],
  'Potential loyalist': ['recent customers with average frequency and spend', 'membership or loyalty offer, recommendations to build the habit'],
  New: ['bought very recently, for the first time (or little)', 'onboarding, a good first experience, a reason for the second order'],
  Promising: ['recent, but bought little so far', 'show the range, a small incentive for the next order'],
  'Need attention': ['middling on every score', 'limited-time offers based on their past purchases'],
  'About to sleep': ['below average recency, few orders, low spend', 'share popular items, a reconnection offer before they go'],
  'At risk': ['used to buy often and spend well, but not for a while', 'personal win-back e-mails, renewal offers'],
  "Can't lose": ['among the best customers once, gone quiet', 'win them back personally; find out what went wrong'],
  Hibernating: ['last purchase long ago, few orders, low spend', "relevant offers at low cost; don't over-invest"],
  Lost: ['longest since the last purchase, little history', 'at most a cheap reactivation campaign; otherwise leave them'],
};

export interface SegmentDefinition {
  segment: Segment;
  slug: string;
  /** Inclusive ranges of the R score and of the FM score (the mean of F and M, rounded down). */
  recency: [number, number];
  fm: [number, number];
  who: string;
  what_works: string;
}

/** Every segment, in map order. */
export const SEGMENT_DEFINITIONS: readonly SegmentDefinition[] = SEGMENTS.map((segment) => {
  const rule = RFM_MAP.find((r) => r.segment === segment)!;
  const [who, works] = GUIDE[segment];
  return { segment, slug: segmentSlug(segment), recency: rule.recency, fm: rule.fm, who, what_works: works };
});
