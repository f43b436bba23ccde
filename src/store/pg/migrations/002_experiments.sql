-- Experiments as the API defines them: a display name and the share of users in the test.
-- Each variant's weight, strategy, parameters and the control flag live in `variants` (jsonb).
ALTER TABLE experiments
  ADD COLUMN name text,
  ADD COLUMN coverage double precision NOT NULL DEFAULT 1 CHECK (coverage > 0 AND coverage <= 1);

-- One exposure per request: email providers fetch the same block URL several times (HTML, text,
-- AMP parts), so the exposure writer inserts with ON CONFLICT DO NOTHING against this key.
CREATE UNIQUE INDEX exposures_experiment_request_key ON exposures (experiment_id, request_id);
-- A user's first exposure starts their attribution window.
CREATE INDEX exposures_experiment_user_idx ON exposures (experiment_id, user_id, exposed_at);
