#!/usr/bin/env bash
# The demo: installs what it needs, then runs scripts/demo.ts (see README.md). Pass --check to
# print the overlay once and exit non-zero if it is incomplete.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx scripts/demo.ts "$@"
