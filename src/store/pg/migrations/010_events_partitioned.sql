-- events partitioned by month (RANGE on occurred_at), so old months are dropped whole
-- (EVENTS_RETENTION_MONTHS, src/store/pg/partitions.ts) and the build reads only the months its
-- window needs. A DEFAULT partition takes any row no month partition covers (a far-past or
-- far-future timestamp): no insert ever fails for lack of a partition.
--
-- A unique index of a partitioned table must contain the partition key, so (tenant_id,
-- idempotency_key) can no longer be unique in events itself: each key is claimed in
-- event_idempotency, in the same statement as the event insert (src/store/pg/events.ts), and an
-- event whose key was already claimed is not inserted. Erasure and retention delete the keys of
-- the events they delete.
--
-- Existing rows are copied (in this transaction) into partitions that have no index yet; the
-- indexes are built afterwards. The copy keeps every column, ids included; the id sequence stays.
-- LIKE copies the columns in their order, defaults (the id sequence) and CHECK constraints as
-- they are now: this migration may run before or after 020 (an install that had 020 already).

CREATE TABLE events_partitioned (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_default PARTITION OF events_partitioned DEFAULT;

-- A partition for every month that has rows, and for this month and the next three (the
-- partition job keeps creating them ahead). Months far away (a bogus timestamp a year or more in
-- the future) stay in the default partition.
DO $$
DECLARE
  m timestamptz;
BEGIN
  FOR m IN
    SELECT month FROM (
      SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') AS month FROM events
      UNION
      SELECT date_trunc('month', now(), 'UTC') + make_interval(months => k) FROM generate_series(0, 3) AS k
    ) months
    WHERE month < date_trunc('month', now(), 'UTC') + interval '1 year'
    ORDER BY month
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF events_partitioned FOR VALUES FROM (%L) TO (%L)',
      'events_p' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'), m, m + interval '1 month');
  END LOOP;
END $$;

INSERT INTO events_partitioned SELECT * FROM events;

CREATE TABLE event_idempotency (
  tenant_id        text NOT NULL,
  idempotency_key  text NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
INSERT INTO event_idempotency (tenant_id, idempotency_key) SELECT tenant_id, idempotency_key FROM events WHERE idempotency_key IS NOT NULL;

ALTER SEQUENCE events_id_seq OWNED BY NONE;
DROP TABLE events;
ALTER TABLE events_partitioned RENAME TO events;
ALTER SEQUENCE events_id_seq OWNED BY events.id;

-- ids come from one sequence: unique across partitions without an index of their own.
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, occurred_at);
ALTER TABLE events ADD CONSTRAINT events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id);
CREATE INDEX events_user_time_idx ON events (tenant_id, user_id, occurred_at DESC);
CREATE INDEX events_type_time_idx ON events (tenant_id, type, occurred_at);
CREATE INDEX events_request_idx ON events (tenant_id, request_id) WHERE request_id IS NOT NULL;
ANALYZE events;
