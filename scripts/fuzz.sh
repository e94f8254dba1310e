#!/usr/bin/env bash
# Fuzzes the parsers of outside input in lktop and its livekit-sandbox crate (configuration,
# scenarios, Twirp request bodies, room metadata, Prometheus expositions, webhooks and their
# tokens): every cargo-fuzz target in fuzz/ (`cargo fuzz list`) runs for
# SECONDS_PER_TARGET seconds (default 30), starting from the committed seeds in
# fuzz/corpus/<target>/, which it only reads (new inputs go to a temporary folder).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Prints one summary line per target. Exits non-zero when a target panics, hangs (10 s on one
# input) or runs out of memory, after naming the input that did it (kept in fuzz/artifacts/).
#
# cargo-fuzz passes nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# take them. The build is unoptimized (`--dev`): on two cores an optimized, instrumented build
# of lktop's dependencies takes minutes more than the fuzzing it serves, and `--dev` keeps debug
# assertions on (`render_masked` checks itself with one). No address sanitizer: lktop forbids
# unsafe code, and the sanitizer slows both the build and every run.
set -euo pipefail

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (a whole number of seconds, default 30)" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
flags=(--dev --sanitizer none)

if ! command -v cargo-fuzz >/dev/null; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

mapfile -t targets < <(cargo fuzz list)
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz: cargo fuzz list found no target in fuzz/" >&2
  exit 1
fi
cargo fuzz build "${flags[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The number after `name:` in libFuzzer's final statistics, and the corpus as it last counted
# it ("corp: 412/88Kb").
stat() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
# A target that crashes on a seed stops before libFuzzer counts anything: empty, not an error.
last_corpus() {
  grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$1" | tail -n 1 |
    sed 's|corp: \([0-9]*\)/\(.*\)|\1 inputs (\2)|' || true
}

failed=()
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  log="$work/$target.log"
  status=ok
  cargo fuzz run "${flags[@]}" "$target" "$work/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=FAILED

  runs=$(stat number_of_executed_units "$log")
  corpus=$(last_corpus "$log")
  printf 'fuzz: %-16s %-6s %9s runs in %ss, corpus %s\n' \
    "$target" "$status" "${runs:-?}" "$seconds" "${corpus:-?}"

  if [[ $status != ok ]]; then
    failed+=("$target")
    echo "---- $target: what went wrong ----" >&2
    grep -E -A3 -m1 'panicked at|ERROR: libFuzzer|ALARM: working on the last Unit' "$log" >&2 ||
      grep -v '^\s*[0-9]*: \|^\s*at ' "$log" | tail -n 20 >&2
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [[ -n $input ]]; then
      echo "fuzz: $target failed on the input in $input" >&2
      echo "fuzz: reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run ${flags[*]} $target $input" >&2
    else
      echo "fuzz: $target failed without writing an input; the log is above" >&2
    fi
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash"
