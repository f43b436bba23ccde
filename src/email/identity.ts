// Email fetches are idempotent: the same URL asks for the same block, under the same request_id,
// however often an ESP fetches it (HTML, text and AMP parts, retries). Both are hashes of what
// defines the block, never of the time or of how it is rendered.
import { createHash } from 'node:crypto';

const hash = (parts: unknown[], length: number) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, length);

/** What the block asks for: strategy or experiment, seeds, size, filters, exclusions. Not the user, format or layout. */
export interface BlockSpec {
  strategy: string;
  experiment?: string;
  item?: readonly string[];
  limit: number;
  exclude?: readonly string[];
  exclude_purchased?: boolean;
  category?: string;
  in_stock?: boolean;
  min_price?: number;
  max_price?: number;
  brand_cap?: number;
  fallback: boolean;
}

/** A short key naming the block within its mail. */
export function blockKey(s: BlockSpec): string {
  return hash([s.strategy, s.experiment ?? null, s.item ?? [], s.limit, s.exclude ?? [], s.exclude_purchased ?? null,
    s.category ?? null, s.in_stock ?? null, s.min_price ?? null, s.max_price ?? null, s.brand_cap ?? null, s.fallback], 16);
}

/** The request_id of a block: the same for the same user, mail, block, variant and model version. */
export function emailRequestId(user: string | null, mailId: string | null, key: string, variant: string | null, modelVersion: number | null): string {
  return `em-${hash([user, mailId, key, variant, modelVersion], 24)}`;
}
