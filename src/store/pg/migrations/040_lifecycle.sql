-- Customer lifecycle (docs/lifecycle.md), written by the build's lifecycle stage per tenant:
-- each build's fit, every customer's current profile, and the segment moves between builds.
-- A tenant's profiles are all of one version (the latest build's: replaced in one transaction),
-- so an audience read in one snapshot, or paged by a cursor naming the version, is stable.

CREATE TABLE lifecycle_versions (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  version      bigint NOT NULL,
  -- The reference day: the shop's newest purchase; every recency and prediction is as of it.
  as_of        date NOT NULL,
  customers    integer NOT NULL,
  repeat_buyers integer NOT NULL,
  -- Parameters, log-likelihood, standard errors; null when no model could be fitted.
  bgnbd        jsonb,
  gamma_gamma  jsonb,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

CREATE TABLE lifecycle_profiles (
  tenant_id              text NOT NULL REFERENCES tenants (id),
  user_id                text NOT NULL,
  version                bigint NOT NULL,
  orders                 integer NOT NULL,
  revenue                double precision NOT NULL,
  average_order_value    double precision NOT NULL,
  first_purchase         date NOT NULL,
  last_purchase          date NOT NULL,
  mean_gap_days          double precision,
  median_gap_days        double precision,
  expected_next_purchase date,
  recency_days           integer NOT NULL,
  recency_score          smallint NOT NULL,
  frequency_score        smallint NOT NULL,
  monetary_score         smallint NOT NULL,
  segment                text NOT NULL,
  p_alive                double precision,
  expected_purchases_30  double precision,
  expected_purchases_90  double precision,
  expected_spend         double precision,
  customer_value         double precision,
  -- Buy-again items due (src/lifecycle/replenishment.ts) and the soonest one's days to due.
  due_items              jsonb NOT NULL DEFAULT '[]',
  next_due_days          double precision,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX lifecycle_profiles_segment_idx ON lifecycle_profiles (tenant_id, segment, user_id);

-- One row per customer whose segment changed from one build to the next (from_segment null:
-- first profiled), at the build's time: what journeys trigger on, and what the experiment
-- report reads a user's segment at their first exposure from.
CREATE TABLE lifecycle_segment_changes (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  user_id       text NOT NULL,
  version       bigint NOT NULL,
  from_segment  text,
  to_segment    text NOT NULL,
  changed_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id, version)
);
CREATE INDEX lifecycle_segment_changes_time_idx ON lifecycle_segment_changes (tenant_id, changed_at);
