#!/usr/bin/env bash
# The whole loop on the bundled public data: services → migrate → import → build → serve.
# Each data set gets an id prefix (rees46:, uci:, cj:) so their ids cannot collide in one catalog.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
eval "$(bash scripts/services.sh)"
export PORT="${PORT:-8080}"
tsx() { node --import tsx "$@"; }

echo "== import (idempotent: a re-run adds nothing)"
tsx jobs/import.ts --dataset rees46 --prefix rees46:
tsx jobs/import.ts --dataset uci --prefix uci:
tsx jobs/import.ts --dataset completejourney --prefix cj:

echo "== build"
tsx jobs/build.ts

q() { psql "$DATABASE_URL" -qAtc "$1"; }
viewer=$(q "SELECT user_id FROM events WHERE user_id LIKE 'rees46:%' AND type = 'view' GROUP BY 1 HAVING count(DISTINCT item_id) >= 4 ORDER BY count(*) DESC, 1 LIMIT 1")
item=$(q "SELECT item_id FROM events WHERE item_id LIKE 'uci:%' GROUP BY 1 ORDER BY count(DISTINCT user_id) DESC, 1 LIMIT 1")
buyer=$(q "SELECT user_id FROM events WHERE user_id LIKE 'cj:%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
branded=$(q "SELECT e.item_id FROM events e JOIN products p ON p.id = e.item_id WHERE e.item_id LIKE 'rees46:%' AND p.brand IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")

echo "== serve on http://127.0.0.1:$PORT (Ctrl-C stops)"
tsx src/server.ts &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' INT TERM EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.2; done
base="http://127.0.0.1:$PORT"
cat <<EOT

Ready. Try (from another terminal):
  curl -s '$base/v1/recommendations/collaborative?item=$item&limit=5'        # bought this, also bought (UCI)
  curl -s '$base/v1/recommendations/collaborative?user=$buyer&limit=5'       # personalised (Complete Journey household)
  curl -s '$base/v1/recommendations/recently-viewed?user=$viewer&limit=5'   # REES46 shopper
  curl -s '$base/v1/recommendations/same-brand?item=$branded&limit=5'
  curl -s '$base/v1/recommendations/popular?limit=5'
  curl -s -X POST $base/v1/events -H 'content-type: application/json' \\
       -d '{"events":[{"user_id":"demo-user","item_id":"$item","type":"view"}]}'
  curl -s '$base/v1/recommendations/recently-viewed?user=demo-user'
  open $base/docs for the API reference, $base/metrics for Prometheus
EOT
wait $server
