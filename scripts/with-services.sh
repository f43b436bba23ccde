#!/usr/bin/env bash
# Runs a command with DATABASE_URL and REDIS_URL pointing at running servers (see services.sh).
set -euo pipefail
eval "$(bash "$(dirname "${BASH_SOURCE[0]}")/services.sh")"
exec "$@"
