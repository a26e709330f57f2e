#!/usr/bin/env bash
# The whole test suite: static checks, unit, integration (real mTLS on loopback), and lab tests
# (real network namespaces and wireguard-go; they need root and are skipped otherwise).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

echo "== typecheck" && npx tsc --noEmit -p . || exit 1
echo "== lint" && npx biome check . || exit 1

summary=$(mktemp)
run_tests() { # $1 = label, $2 = concurrency, rest = files
  local label=$1 concurrency=$2
  shift 2
  echo "== $label"
  node --import tsx --test --test-concurrency="$concurrency" --test-timeout=300000 "$@" 2>&1 | tee -a "$summary.$label"
  local rc=${PIPESTATUS[0]}
  grep -E '^# (pass|fail) ' "$summary.$label" >>"$summary"
  return "$rc"
}

shopt -s nullglob globstar
status=0
run_tests unit-and-integration 2 test/unit/**/*.test.ts test/nodeward/**/*.test.ts test/e2e/**/*.test.ts || status=1
lab_files=(test/lab/**/*.test.ts)
if [ "${#lab_files[@]}" -gt 0 ] && [ "$(id -u)" -eq 0 ]; then
  # The Kubernetes lab test needs the bundle: built from Go modules once per version (about 9 min
  # on 2 cores), then reused from /var/cache/runos-lab.
  echo "== kubernetes bundle"
  bash lab/kubernetes/build-bundle.sh >/dev/null || exit 1
fi
if [ "${#lab_files[@]}" -gt 0 ]; then
  run_tests lab 1 "${lab_files[@]}" || status=1
fi

pass=$(awk '/^# pass/ {s+=$3} END {print s+0}' "$summary")
fail=$(awk '/^# fail/ {s+=$3} END {print s+0}' "$summary")
rm -f "$summary" "$summary".*
echo
echo "$pass passed, $fail failed"
exit "$status"
