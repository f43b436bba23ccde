#!/usr/bin/env bash
# The whole loop on the bundled public data, one shop (tenant) per data set:
# services → migrate → import → build → serve the API (:8080) and a demo storefront (:8081).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
eval "$(bash scripts/services.sh)"
export PORT="${PORT:-8080}" STOREFRONT_PORT="${STOREFRONT_PORT:-8081}"
api="http://127.0.0.1:$PORT"
shop="http://127.0.0.1:$STOREFRONT_PORT"
# The storefront signs its visitors' user tokens with the API's secret; its pages call the API
# from their own origin, so the API allows that origin (CORS) and each shop's browser key is bound to it.
export USER_TOKEN_SECRET="${USER_TOKEN_SECRET:-$(node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))")}"
export CORS_ORIGINS="${CORS_ORIGINS:-$shop}"
tsx() { node --import tsx "$@"; }
q() { psql "$DATABASE_URL" -qAtc "$1"; }

declare -A DATASET=([rees46]=rees46 [uci]=uci [cj]=completejourney)
declare -A NAME=([rees46]="REES46 Electronics" [uci]="UCI Gift Shop" [cj]="Complete Journey Grocery")
TENANTS=(rees46 uci cj)

echo "== import (idempotent: a re-run adds nothing)"
for t in "${TENANTS[@]}"; do tsx jobs/import.ts --tenant "$t" --dataset "${DATASET[$t]}"; done

echo "== build"
for t in "${TENANTS[@]}"; do tsx jobs/build.ts --tenant "$t"; done

echo "== shops: link templates pointing at the storefront, and keys"
# Keys of an earlier demo run are revoked: each run prints fresh ones.
q "UPDATE api_keys SET revoked_at = now() WHERE name LIKE 'demo %' AND revoked_at IS NULL" >/dev/null
declare -A SERVER_KEY BROWSER_KEY
shops_json="["
for t in "${TENANTS[@]}"; do
  tsx jobs/tenants.ts set "$t" --product-url-template "$shop/demo/$t/p/{id}" --image-url-template "$shop/demo/$t/img/{id}.svg" >/dev/null
  SERVER_KEY[$t]=$(tsx jobs/keys.ts create --tenant "$t" --scope write --name "demo server ($t)" | tail -1)
  BROWSER_KEY[$t]=$(tsx jobs/keys.ts create --tenant "$t" --scope read --origin "$shop" --name "demo storefront ($t)" | tail -1)
  shops_json+="{\"tenant\":\"$t\",\"name\":\"${NAME[$t]}\",\"serverKey\":\"${SERVER_KEY[$t]}\",\"browserKey\":\"${BROWSER_KEY[$t]}\"},"
done
export STOREFRONT_SHOPS="${shops_json%,}]" STOREFRONT_API_URL="$api"

echo "== serve the API on $api and the storefront on $shop (Ctrl-C stops both)"
LOG_LEVEL="${LOG_LEVEL:-warn}" tsx src/server.ts &
server=$!
trap 'kill $server ${storefront:-} 2>/dev/null; wait 2>/dev/null' INT TERM EXIT
for _ in $(seq 150); do curl -sf "$api/ready?tenant=${TENANTS[0]}" >/dev/null 2>&1 && break; sleep 0.2; done
tsx jobs/storefront.ts >/dev/null &
storefront=$!

top_item() { q "SELECT item_id FROM events WHERE tenant_id = '$1' AND type = 'purchase' GROUP BY 1 ORDER BY count(DISTINCT user_id) DESC, 1 LIMIT 1"; }
top_buyer() { q "SELECT user_id FROM events WHERE tenant_id = '$1' AND type = 'purchase' GROUP BY 1 ORDER BY count(DISTINCT occurred_at) DESC, 1 LIMIT 1"; }
viewer=$(q "SELECT user_id FROM events WHERE tenant_id = 'rees46' AND type = 'view' GROUP BY 1 HAVING count(DISTINCT item_id) >= 4 ORDER BY count(*) DESC, 1 LIMIT 1")
branded=$(q "SELECT e.item_id FROM events e JOIN products p ON p.tenant_id = e.tenant_id AND p.id = e.item_id WHERE e.tenant_id = 'rees46' AND p.brand IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")

echo
echo "Ready. The storefront: $shop/demo/   API reference: $api/docs   Prometheus: $api/metrics"
for t in "${TENANTS[@]}"; do
  echo
  echo "${NAME[$t]} (tenant $t)"
  echo "  server key (scope write): ${SERVER_KEY[$t]}"
  echo "  browser key (read, origin $shop): ${BROWSER_KEY[$t]}"
done
k() { echo "-H 'x-api-key: ${SERVER_KEY[$1]}'"; }
cat <<EOT

Try (from another terminal):
  curl -s $(k uci) '$api/v1/recommendations/collaborative?item=$(top_item uci)&limit=5'   # bought this, also bought
  curl -s $(k cj) '$api/v1/recommendations/buy-again?user=$(top_buyer cj)&limit=5'         # a household's regular buys
  curl -s $(k cj) '$api/v1/recommendations/for-you?user=$(top_buyer cj)&limit=5'
  curl -s $(k rees46) '$api/v1/recommendations/recently-viewed?user=$viewer&limit=5'
  curl -s $(k rees46) '$api/v1/recommendations/same-brand?item=$branded&limit=5'
  curl -s $(k uci) '$api/v1/email/popular.html?limit=4'
  curl -s -X POST $(k uci) $api/v1/events -H 'content-type: application/json' \\
       -d '{"events":[{"user_id":"demo-user","item_id":"$(top_item uci)","type":"view"}]}'
  curl -s $(k uci) '$api/v1/recommendations/recently-viewed?user=demo-user'
EOT
wait $server
