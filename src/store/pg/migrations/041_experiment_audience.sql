-- An experiment may be limited to an audience or segments (src/lifecycle/audiences.ts): only
-- its members enter; everyone else gets the control and records no exposure. Null: everyone.
ALTER TABLE experiments ADD COLUMN audience jsonb;
