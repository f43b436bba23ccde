-- GET /v1/segments/moves pages through a tenant's segment moves in (version, user) order.
CREATE INDEX lifecycle_segment_changes_version_idx ON lifecycle_segment_changes (tenant_id, version, user_id);
