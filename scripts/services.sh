#!/usr/bin/env bash
# Makes a PostgreSQL and a Redis available and prints `export VAR=...` lines for them on stdout
# (messages go to stderr). Order of preference for each service:
#   1. the URL already in the environment (DATABASE_URL / REDIS_URL): used as is;
#   2. a server this script started earlier (ports 5433 / 6380) or a local Redis on 6379;
#   3. a new one started here from Debian's packages, installed with apt-get when missing (root only).
# With RECS_REDIS_CLUSTER=1 it also makes a Redis Cluster available (REDIS_CLUSTER_NODES): the one in
# the environment, else six local nodes (3 masters + 3 replicas) on ports 7380-7385 started here, or
# reused when already up.
# Usage: eval "$(bash scripts/services.sh)"   or   bash scripts/with-services.sh <command...>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${RECS_SERVICES_DIR:-$here/.services}"
pg_port="${RECS_PG_PORT:-5433}"
redis_port="${RECS_REDIS_PORT:-6380}"
cluster_port="${RECS_CLUSTER_PORT:-7380}"
say() { echo "services: $*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "$1 is missing and I am not root: install it (apt-get install $1) or set ${2}."
    exit 1
  fi
  say "installing $1 with apt-get (once)..."
  # The package lists may be missing on a fresh machine; an update is what makes install work.
  apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >&2
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then say "Redis: using REDIS_URL from the environment"; echo "export REDIS_URL='$REDIS_URL'"; return; fi
  command -v redis-cli >/dev/null 2>&1 || apt_install redis-server REDIS_URL
  for port in "$redis_port" 6379; do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      say "Redis: reusing the server on 127.0.0.1:$port (set REDIS_URL to use another)"
      echo "export REDIS_URL='redis://127.0.0.1:$port'"; return
    fi
  done
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server REDIS_URL
  mkdir -p "$dir/redis"
  # No persistence: Redis holds only derived data that a build (and event replay) recreates.
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$dir/redis" \
    --save '' --appendonly no --logfile "$dir/redis/redis.log" --pidfile "$dir/redis/redis.pid" >&2
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  say "Redis: started redis-server on 127.0.0.1:$redis_port (data in $dir/redis; set REDIS_URL to use your own)"
  echo "export REDIS_URL='redis://127.0.0.1:$redis_port'"
}

cluster_state() { redis-cli -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

# Whether every node is up, in one cluster of six, with all slots served and each master replicated.
cluster_ok() {
  local port
  for port in "${cluster_ports[@]}"; do
    [ "$(cluster_state "$port" cluster_state)" = ok ] && [ "$(cluster_state "$port" cluster_known_nodes)" = 6 ] || return 1
  done
  [ "$(cluster_state "${cluster_ports[0]}" cluster_slots_ok)" = 16384 ] \
    && [ "$(redis-cli -p "${cluster_ports[0]}" cluster nodes | grep -c ' slave ')" = 3 ]
}

ensure_redis_cluster() {
  if [ -n "${REDIS_CLUSTER_NODES:-}" ]; then say "Redis Cluster: using REDIS_CLUSTER_NODES from the environment"; echo "export REDIS_CLUSTER_NODES='$REDIS_CLUSTER_NODES'"; return; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server REDIS_CLUSTER_NODES
  cluster_ports=()
  local i port seeds
  for i in 0 1 2 3 4 5; do cluster_ports+=("$((cluster_port + i))"); done
  seeds="$(printf '127.0.0.1:%s,' "${cluster_ports[@]}")"; seeds="${seeds%,}"
  if cluster_ok; then
    say "Redis Cluster: reusing the nodes on 127.0.0.1:${cluster_ports[0]}-${cluster_ports[5]}"
    echo "export REDIS_CLUSTER_NODES='$seeds'"; return
  fi
  mkdir -p "$dir/cluster"
  for port in "${cluster_ports[@]}"; do
    redis-cli -p "$port" ping >/dev/null 2>&1 && continue
    # No persistence, as the single Redis; nodes-P.conf keeps the topology across restarts.
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir/cluster" \
      --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 5000 \
      --save '' --appendonly no --logfile "$dir/cluster/$port.log" --pidfile "$dir/cluster/$port.pid" >&2
  done
  for port in "${cluster_ports[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  # Nodes restarted with their nodes-P.conf find each other again; give them the node timeout.
  for _ in $(seq 100); do cluster_ok && break; [ "$(cluster_state "${cluster_ports[0]}" cluster_known_nodes)" = 1 ] && break; sleep 0.1; done
  if ! cluster_ok; then
    say "Redis Cluster: creating it (3 masters, 3 replicas) on 127.0.0.1:${cluster_ports[0]}-${cluster_ports[5]}"
    for port in "${cluster_ports[@]}"; do redis-cli -p "$port" flushall >/dev/null; redis-cli -p "$port" cluster reset hard >/dev/null; done
    redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") --cluster-replicas 1 --cluster-yes >&2
    for _ in $(seq 300); do cluster_ok && break; sleep 0.1; done
    cluster_ok || { say "Redis Cluster: not ready after 30 s (logs in $dir/cluster)"; exit 1; }
  fi
  say "Redis Cluster: started on 127.0.0.1:${cluster_ports[0]}-${cluster_ports[5]} (data in $dir/cluster; set REDIS_CLUSTER_NODES to use your own)"
  echo "export REDIS_CLUSTER_NODES='$seeds'"
}

pg_bin() {
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  local found; found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$found" ] && echo "$found"
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then say "PostgreSQL: using DATABASE_URL from the environment"; echo "export DATABASE_URL='$DATABASE_URL'"; return; fi
  local url="postgres://recs@127.0.0.1:$pg_port/recs"
  local bin; bin="$(pg_bin || true)"
  [ -n "$bin" ] || { apt_install postgresql DATABASE_URL; bin="$(pg_bin)"; }
  if psql "$url" -qAtc 'select 1' >/dev/null 2>&1; then
    say "PostgreSQL: reusing the server on 127.0.0.1:$pg_port"
    echo "export DATABASE_URL='$url'"; return
  fi
  # PostgreSQL refuses to run as root: run it as the 'postgres' user that Debian's package creates.
  local run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || apt_install postgresql DATABASE_URL
    run=(runuser -u postgres --)
  fi
  mkdir -p "$dir"
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    mkdir -p "$dir/pg"; [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
    "${run[@]}" "$bin/initdb" -D "$dir/pg" -U recs --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
  # A disposable local cluster: durability settings off make imports and tests several times faster.
  "${run[@]}" "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w -t 60 start \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2
  psql "postgres://recs@127.0.0.1:$pg_port/postgres" -qAtc "select 1 from pg_database where datname='recs'" | grep -q 1 \
    || psql "postgres://recs@127.0.0.1:$pg_port/postgres" -qc 'create database recs' >&2
  say "PostgreSQL: started a local cluster on 127.0.0.1:$pg_port (data in $dir/pg; set DATABASE_URL to use your own)"
  echo "export DATABASE_URL='$url'"
}

ensure_redis
ensure_postgres
[ "${RECS_REDIS_CLUSTER:-}" = 1 ] && ensure_redis_cluster
exit 0
