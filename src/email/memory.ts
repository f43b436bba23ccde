// What one email's blocks showed, as the block service needs it remembered (the Redis store is
// src/store/redis/mail-memory.ts): a later block of the mail leaves those items out, and a block
// fetched again gets the items it got the first time.
import type { RepeatReason, Source, Strategy } from '../recommend/types.ts';

export interface RememberedItem {
  id: string;
  score: number;
  source: Source;
  because?: string;
  repeat?: RepeatReason;
}

export interface RememberedBlock {
  requestId: string;
  strategy: Strategy;
  variant: string | null;
  modelVersion: number | null;
  degraded: boolean;
  items: RememberedItem[];
}

/** What the mail holds for this user: their earlier blocks, unless they may not be used. */
export type Recall = { state: 'ok'; blocks: Map<string, RememberedBlock> } | { state: 'opted-out' | 'withheld' };

export interface MailMemoryStore {
  /** Every block this mail has shown so far, by block key; or why they may not be used. */
  recall(user: string, mailId: string): Promise<Recall>;
  /** Stores the block unless one was stored under its key meanwhile; returns the one stored. */
  remember(user: string, mailId: string, blockKey: string, block: RememberedBlock): Promise<RememberedBlock>;
}
