-- The website widget records what a visitor saw (POST /v1/widget/events, src/routes/widget-events.ts):
-- an `impression` event per item shown, with its position and request_id, next to the widget's
-- clicks. No model is built from them (the build reads only the types EVENT_WEIGHTS weighs);
-- erasing a user deletes them with the rest of their events.
-- NOT VALID: every existing row passed the narrower check this one replaces, so the table is not
-- scanned while it is locked.
ALTER TABLE events DROP CONSTRAINT events_type_check,
  ADD CONSTRAINT events_type_check CHECK (type IN ('view', 'cart', 'purchase', 'click', 'impression')) NOT VALID;
