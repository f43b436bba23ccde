// Email fetches are idempotent: the same URL asks for the same block, under the same request_id,
// however often an ESP fetches it (HTML, text and AMP parts, retries). Both are hashes of what
// defines the block, never of the time or of how it is rendered.
import { createHash } from 'node:crypto';
import type { Query } from '../recommend/request.ts';

const hash = (parts: unknown[], length: number) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, length);

/** What the block asks for: strategy or experiment, seeds, size, filters, exclusions. Not the user, format or layout. */
export type BlockSpec = Pick<Query, 'item' | 'limit' | 'exclude' | 'exclude_purchased' | 'category' | 'in_stock' | 'min_price' | 'max_price' | 'brand_cap' | 'fallback'> & {
  strategy: string;
  experiment?: string;
};

/** A short key naming the block within its mail. */
export function blockKey(s: BlockSpec): string {
  return hash(
    [
      s.strategy,
      s.experiment ?? null,
      s.item ?? [],
      s.limit,
      s.exclude ?? [],
      s.exclude_purchased ?? null,
      s.category ?? null,
      s.in_stock ?? null,
      s.min_price ?? null,
      s.max_price ?? null,
      s.brand_cap ?? null,
      s.fallback,
    ],
    16,
  );
}

/** The request_id of a block: the same for the same user, mail, block, variant and model version. */
export function emailRequestId(user: string | null, mailId: string | null, key: string, variant: string | null, modelVersion: number | null): string {
  return `em-${hash([user, mailId, key, variant, modelVersion], 24)}`;
}
