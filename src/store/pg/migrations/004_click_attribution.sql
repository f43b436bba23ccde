-- Clicks on tracked links (GET /v1/r/{token}) say where they came from: the item's place in its
-- block and the experiment variant the block was served under (the experiment itself follows
-- from request_id, through exposures). NULL for every other event.
ALTER TABLE events
  ADD COLUMN position integer CHECK (position > 0),
  ADD COLUMN variant text;
