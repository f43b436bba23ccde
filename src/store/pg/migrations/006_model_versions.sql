-- Model version numbers come from PostgreSQL, which keeps them when Redis loses its data: a
-- number is never given to two builds, so a process that still holds version N in memory can
-- never mistake another build for it. One row per build that took a number.
CREATE SEQUENCE model_version_seq;
CREATE TABLE model_versions (
  version       bigint PRIMARY KEY,
  started_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
