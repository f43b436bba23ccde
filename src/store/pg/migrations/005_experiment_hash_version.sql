-- The GrowthBook hash version an experiment buckets users with: 1 (the SDKs' original) or 2
-- (what they recommend, and what every experiment so far was assigned with).
ALTER TABLE experiments
  ADD COLUMN hash_version smallint NOT NULL DEFAULT 2 CHECK (hash_version IN (1, 2));

-- Weights are now GrowthBook's bucket weights, summing to 1 and used as given. Definitions of
-- another scale (1:1:2) were divided by their sum at assignment: store them so divided, and every
-- user keeps the variant they had.
UPDATE experiments e
SET variants = (
  SELECT jsonb_agg(jsonb_set(v, '{weight}', to_jsonb((v ->> 'weight')::float8 / t.total)) ORDER BY i)
  FROM jsonb_array_elements(e.variants) WITH ORDINALITY AS a (v, i)
)
FROM (
  SELECT x.id, sum((v ->> 'weight')::float8) AS total
  FROM experiments x, jsonb_array_elements(x.variants) AS v
  GROUP BY x.id
) t
WHERE t.id = e.id AND t.total > 0 AND (t.total < 0.99 OR t.total > 1.01);
