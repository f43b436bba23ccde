-- API keys (src/auth): only a SHA-256 of each key is kept; `prefix` (recs_<12 hex>) is public and
-- names the key in logs and the CLI. rate_limit per rate_window_seconds; NULL = the default.
CREATE TABLE api_keys (
  prefix               text PRIMARY KEY,
  hash                 text NOT NULL,
  name                 text NOT NULL,
  scope                text NOT NULL CHECK (scope IN ('read', 'write')),
  origins              text[] NOT NULL DEFAULT '{}',
  rate_limit           integer CHECK (rate_limit > 0),
  rate_window_seconds  integer CHECK (rate_window_seconds > 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  revoked_at           timestamptz,
  -- A key restricted to browser origins is public in a web page: it may read, never write.
  CHECK (scope = 'read' OR cardinality(origins) = 0),
  CHECK ((rate_limit IS NULL) = (rate_window_seconds IS NULL))
);

-- Erasing a user (DELETE /v1/users/{id}) deletes their exposures: find them without a scan.
CREATE INDEX exposures_user_idx ON exposures (user_id);
