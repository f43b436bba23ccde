#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (test/browser), installing it with
# apt-get when missing, like services.sh does for PostgreSQL and Redis. Prints its path on stdout.
# playwright-core drives it; Playwright's own browser download cannot work on these machines.
set -euo pipefail

chromium="${RECS_CHROMIUM:-/usr/bin/chromium}"
say() { echo "browser: $*" >&2; }

if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "$chromium is missing and I am not root: install it (apt-get install chromium) or set RECS_CHROMIUM."
    exit 1
  fi
  say "installing chromium with apt-get (once)..."
  # The package lists may be missing on a fresh machine; an update is what makes install work.
  apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
echo "$chromium"
