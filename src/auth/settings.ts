import type { Rate } from './rate.ts';

/** required: every non-public route needs a key; auto: as soon as one active key exists; off: never. */
export type AuthMode = 'required' | 'auto' | 'off';
export const AUTH_MODES: readonly AuthMode[] = ['required', 'auto', 'off'];

export interface AuthSettings {
  mode: AuthMode;
  /** Active keys are re-read from PostgreSQL this often: a revocation takes effect within it. */
  keyCacheMs: number;
  /** Rate of keys created without one of their own. */
  defaultRate: Rate;
  /** HMAC secret of user tokens (>= 32 characters); empty: widget keys cannot read personal blocks. */
  userTokenSecret: string;
  /** GET /metrics needs a key (read scope) instead of being public. */
  metricsRequireKey: boolean;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  mode: 'auto',
  keyCacheMs: 5000,
  defaultRate: { limit: 100, windowSeconds: 1 },
  userTokenSecret: '',
  metricsRequireKey: false,
};
