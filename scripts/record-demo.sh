#!/usr/bin/env bash
# Records assets/demo-recording.ndjson.gz, the recording `lktop replay` ships with: `lktop watch
# --record` against `lktop sandbox` running the demo scenario
# (crates/livekit-sandbox/assets/demo.yaml) at 4x simulated speed for 180 real seconds, i.e. 12
# simulated minutes: the whole demo timeline, its surges, limit violations and faults included.
# Run it again when the engine's events change; it takes a little over three minutes.
#
# usage: scripts/record-demo.sh [OUTPUT]      (default: assets/demo-recording.ndjson.gz)
#   DURATION=180s SPEED=4 override the length and the simulation speed.
set -euo pipefail

cd "$(dirname "$0")/.."
output=${1:-assets/demo-recording.ndjson.gz}
duration=${DURATION:-180s}
speed=${SPEED:-4}
case $output in
  *.gz) ;;
  *) echo "error: $output: the recording's name must end in .gz (it is gzip-compressed)" >&2; exit 2 ;;
esac

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  if [[ -n $sandbox_pid ]] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> cargo build --release" >&2
cargo build --release --locked
lktop=target/release/lktop

# Only this script's settings: no LiveKit or lktop variables from the caller's environment.
while read -r name; do
  unset "$name"
done < <(compgen -e | grep -E '^(LIVEKIT_|LKTOP_)' || true)

# A throwaway secret, so the check below means something.
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
key=demo-recorder

echo "==> lktop sandbox --port 0 --speed $speed" >&2
"$lktop" sandbox --port 0 --speed "$speed" --api-key "$key" --api-secret "$secret" \
  >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^LIVEKIT_URL=//p' "$work/sandbox.out")
  [[ -n $url ]] && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "error: the sandbox did not start:" >&2
    cat "$work/sandbox.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "error: the sandbox printed no LIVEKIT_URL within 10 s" >&2
  cat "$work/sandbox.err" >&2
  exit 1
fi

(
  umask 077
  cat >"$work/config.yaml" <<YAML
servers:
  - name: sandbox
    url: $url
    api_key: $key
    api_secret: $secret
YAML
)

echo "==> lktop watch --duration $duration --record $output (sandbox at $url)" >&2
recording="$work/recording.ndjson.gz"
"$lktop" --config "$work/config.yaml" watch --duration "$duration" --record "$recording" >/dev/null

if gzip -dc "$recording" | grep -qF "$secret"; then
  echo "error: the API secret appears in the recording; not keeping it" >&2
  exit 1
fi
mv "$recording" "$output"

echo "==> $output: $(wc -c <"$output") bytes, events by type:" >&2
gzip -dc "$output" | sed -n 's/^{"at_ms":[0-9-]*,"type":"\([a-z_]*\)".*/\1/p' | sort | uniq -c | sort -rn >&2
