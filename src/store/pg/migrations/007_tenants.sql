-- Several shops in one service. A tenant is a shop: every row carries its tenant, in primary
-- keys, unique and idempotency constraints, so no id of one shop can meet another's. Rows that
-- exist belong to the 'default' tenant (a single-shop install keeps working as it was). Then the
-- columns lose their default: every writer must say whose row it writes.
CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (id) VALUES ('default');

ALTER TABLE exposures DROP CONSTRAINT exposures_experiment_id_fkey;

ALTER TABLE products ADD COLUMN tenant_id text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE products DROP CONSTRAINT products_pkey, ADD PRIMARY KEY (tenant_id, id);
DROP INDEX products_brand_idx;
CREATE INDEX products_brand_idx ON products (tenant_id, brand) WHERE brand IS NOT NULL;

ALTER TABLE users ADD COLUMN tenant_id text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE users DROP CONSTRAINT users_pkey, ADD PRIMARY KEY (tenant_id, id);

ALTER TABLE events ADD COLUMN tenant_id text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE events DROP CONSTRAINT events_idempotency_key_key, ADD CONSTRAINT events_idempotency_key UNIQUE (tenant_id, idempotency_key);
DROP INDEX events_user_time_idx, events_type_time_idx, events_request_idx;
CREATE INDEX events_user_time_idx ON events (tenant_id, user_id, occurred_at DESC);
CREATE INDEX events_type_time_idx ON events (tenant_id, type, occurred_at);
CREATE INDEX events_request_idx ON events (tenant_id, request_id) WHERE request_id IS NOT NULL;

ALTER TABLE experiments ADD COLUMN tenant_id text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE experiments DROP CONSTRAINT experiments_pkey, ADD PRIMARY KEY (tenant_id, id);

ALTER TABLE exposures ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
ALTER TABLE exposures ADD FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, id);
DROP INDEX exposures_experiment_request_key, exposures_experiment_idx, exposures_experiment_user_idx, exposures_request_idx, exposures_user_idx;
CREATE UNIQUE INDEX exposures_experiment_request_key ON exposures (tenant_id, experiment_id, request_id);
CREATE INDEX exposures_experiment_idx ON exposures (tenant_id, experiment_id, variant);
CREATE INDEX exposures_experiment_user_idx ON exposures (tenant_id, experiment_id, user_id, exposed_at);
CREATE INDEX exposures_request_idx ON exposures (tenant_id, request_id);
CREATE INDEX exposures_user_idx ON exposures (tenant_id, user_id);

ALTER TABLE import_runs ADD COLUMN tenant_id text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE model_versions ADD COLUMN tenant_id text NOT NULL DEFAULT 'default' REFERENCES tenants (id);

-- A key serves the one tenant it names; an admin key names several (or '*', every tenant) and
-- its caller says which one each request is for (x-recs-tenant). Keys that exist serve 'default'.
ALTER TABLE api_keys ADD COLUMN tenants text[] NOT NULL DEFAULT '{default}'
  CHECK (cardinality(tenants) >= 1 AND (cardinality(tenants) = 1 OR cardinality(origins) = 0));

ALTER TABLE products ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE users ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE events ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE experiments ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE exposures ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE import_runs ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE model_versions ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE api_keys ALTER COLUMN tenants DROP DEFAULT;
