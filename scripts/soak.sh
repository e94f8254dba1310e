#!/usr/bin/env bash
# The full soak of the demo (tests/soak.rs), release build: the embedded sandbox at 30x speed,
# the engine, the dashboard fed every event, a fault every 30 s and a command every 5 s.
# Prints one line per minute (RSS, descriptors, tasks, events, faults) and fails on growth.
#
#   scripts/soak.sh [SECONDS]      (default 600; CI runs 90 s in the debug build)
set -euo pipefail
seconds=${1:-600}
case $seconds in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
LKTOP_SOAK_SECS=$seconds exec cargo test --locked --release -p lktop --test soak -- --nocapture
