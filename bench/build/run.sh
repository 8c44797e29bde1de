#!/usr/bin/env bash
# Build times of one checkout, for BENCHMARKS.md's "Build and test times": our crates built from
# clean (dependencies already built), an incremental build after touching one route, and the
# test suite. Run it on two checkouts back to back and compare the ratios, not the seconds.
#   bench/build/run.sh <checkout> <a route file in it> [--tests]
set -euo pipefail
checkout=$1 route=$2
cd "$checkout"
ours=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(" ".join("-p "+p["name"] for p in json.load(sys.stdin)["packages"]))')
cargo build --locked --bin reelforge -q
# shellcheck disable=SC2086
cargo clean $ours -q
start=$(date +%s.%N); cargo build --locked --bin reelforge -q; end=$(date +%s.%N)
echo "ours_from_clean $(echo "$end - $start" | bc)"
touch "$route"
start=$(date +%s.%N); cargo build --locked --bin reelforge -q; end=$(date +%s.%N)
echo "incremental_after_route $(echo "$end - $start" | bc)"
if [ "${3:-}" = --tests ]; then
  cargo test --workspace --lib --bins --tests --locked --no-run -q 2>/dev/null
  start=$(date +%s.%N); cargo test --workspace --lib --bins --tests --locked -q >/dev/null 2>&1; end=$(date +%s.%N)
  echo "test_suite $(echo "$end - $start" | bc)"
fi
