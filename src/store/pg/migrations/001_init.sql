-- Catalog, behaviour and people: the truth the batch jobs build from.

CREATE TABLE products (
  id          text PRIMARY KEY,
  title       text,
  brand       text,
  category    text,
  price       numeric(12, 2),
  currency    text,
  url         text,
  image_url   text,
  in_stock    boolean NOT NULL DEFAULT true,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_brand_idx ON products (brand) WHERE brand IS NOT NULL;

CREATE TABLE users (
  id                       text PRIMARY KEY,
  personalization_opt_out  boolean NOT NULL DEFAULT false,
  deleted_at               timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now()
);

-- No foreign key to products: events routinely arrive before the catalog knows the item.
CREATE TABLE events (
  id               bigserial PRIMARY KEY,
  user_id          text NOT NULL,
  item_id          text NOT NULL,
  type             text NOT NULL CHECK (type IN ('view', 'cart', 'purchase', 'click')),
  quantity         integer NOT NULL DEFAULT 1,
  price            numeric(12, 2),
  -- Explicit strength (a rating from a generic import); NULL = the configured weight of the type.
  weight           real,
  occurred_at      timestamptz NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  request_id       text,
  idempotency_key  text UNIQUE,
  source           text NOT NULL DEFAULT 'api'
);
CREATE INDEX events_user_time_idx ON events (user_id, occurred_at DESC);
CREATE INDEX events_type_time_idx ON events (type, occurred_at);
CREATE INDEX events_request_idx ON events (request_id) WHERE request_id IS NOT NULL;

CREATE TABLE experiments (
  id          text PRIMARY KEY,
  salt        text NOT NULL,
  variants    jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  stopped_at  timestamptz
);

CREATE TABLE exposures (
  id             bigserial PRIMARY KEY,
  experiment_id  text NOT NULL REFERENCES experiments (id),
  variant        text NOT NULL,
  user_id        text NOT NULL,
  request_id     text NOT NULL,
  strategy       text NOT NULL,
  items          text[] NOT NULL,
  exposed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exposures_experiment_idx ON exposures (experiment_id, variant);
CREATE INDEX exposures_request_idx ON exposures (request_id);

-- One row per import run: what was read, loaded and rejected, for the operator.
CREATE TABLE import_runs (
  id           bigserial PRIMARY KEY,
  source       text NOT NULL,
  path         text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  rows_read    bigint NOT NULL DEFAULT 0,
  events_new   bigint NOT NULL DEFAULT 0,
  products_upserted bigint NOT NULL DEFAULT 0,
  rows_rejected bigint NOT NULL DEFAULT 0,
  rejected_sample jsonb
);
