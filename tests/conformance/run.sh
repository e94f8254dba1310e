#!/usr/bin/env bash
# Conformance of `lktop sandbox` with the official LiveKit server SDKs for Python and Node.
#
# Installs the pinned SDKs into project-local, git-ignored folders (tests/conformance/.deps/venv and
# tests/conformance/node/node_modules; a re-run with unchanged pins installs nothing), builds lktop,
# starts `lktop sandbox` on a free loopback port with a fresh random secret (sending webhooks to
# another free port), runs the Python checks, the Node checks, both SDKs' Egress, Ingress and
# AgentDispatch checks, then the Python webhook checks
# (the SDK's WebhookReceiver on that port), and always stops the sandbox. Exits non-zero if any
# check fails, if the sandbox does not come up or dies, or if it does not shut down cleanly on
# SIGTERM.
#
# Environment: LKTOP_BIN=path uses that binary instead of running `cargo build --locked`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

deps="$here/.deps"
venv="$deps/venv"
node_dir="$here/node"
STARTUP_TIMEOUT_S=${STARTUP_TIMEOUT_S:-30}
SCRIPT_TIMEOUT_S=120 # each script bounds itself to 60 s; this is the backstop

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in python3 node npm; do
  command -v "$tool" >/dev/null || die "$tool is missing: the conformance checks need Python 3 and Node.js 18+ with npm"
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] || die "Node.js 18 or newer is needed (global fetch), found $(node --version)"

# A hash of the files that pin an install; the install is redone only when it changes.
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

step "Python deps (livekit-api) in ${venv#"$root"/}"
py_stamp="$(stamp_of "$here/python/requirements.txt"; python3 --version)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.lktop-stamp" 2>/dev/null)" = "$py_stamp" ] \
  && "$venv/bin/python" -c 'import livekit.api' 2>/dev/null; then
  echo "up to date"
else
  rm -rf "$venv"
  mkdir -p "$deps"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$here/python/requirements.txt"
  printf '%s' "$py_stamp" >"$venv/.lktop-stamp"
fi
"$venv/bin/python" -c 'from livekit import api; print("livekit-api", api.__version__)'

step "Node deps (livekit-server-sdk) in ${node_dir#"$root"/}/node_modules"
node_stamp="$(stamp_of "$node_dir/package-lock.json"; node --version)"
if [ -f "$node_dir/node_modules/livekit-server-sdk/package.json" ] \
  && [ "$(cat "$node_dir/node_modules/.lktop-stamp" 2>/dev/null)" = "$node_stamp" ]; then
  echo "up to date"
else
  npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error
  printf '%s' "$node_stamp" >"$node_dir/node_modules/.lktop-stamp"
fi
node -p '"livekit-server-sdk " + require(process.argv[1]).version' \
  "$node_dir/node_modules/livekit-server-sdk/package.json"

if [ -n "${LKTOP_BIN:-}" ]; then
  bin="$LKTOP_BIN"
else
  step "cargo build --locked"
  cargo build --locked
  bin="$root/target/debug/lktop"
fi
[ -x "$bin" ] || die "no lktop binary at $bin"

step "start lktop sandbox"
run_dir="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill -TERM "$sandbox_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$sandbox_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_sandbox_output() {
  echo "--- sandbox stdout:" >&2; tail -n 20 "$run_dir/stdout" >&2 || true
  echo "--- sandbox stderr:" >&2; tail -n 40 "$run_dir/stderr" >&2 || true
}

api_key="devkey"
api_secret="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" # 32 hex characters
# The sandbox sends its webhooks here; the webhook checks listen on it (nothing listens before
# they run, so earlier webhooks are refused and counted as failed deliveries, nothing more).
webhook_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" sandbox --port 0 --api-key "$api_key" --api-secret "$api_secret" --scenario none \
  --webhook-url "http://127.0.0.1:$webhook_port/" \
  >"$run_dir/stdout" 2>"$run_dir/stderr" </dev/null &
sandbox_pid=$!

url=""
deadline=$((SECONDS + STARTUP_TIMEOUT_S))
while [ -z "$url" ]; do
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    set +e; wait "$sandbox_pid"; rc=$?; set -e
    sandbox_pid=""
    show_sandbox_output
    die "lktop sandbox exited (status $rc) before printing its URL"
  fi
  # Only a complete first line counts: the process may be mid-write.
  if [ "$(wc -l <"$run_dir/stdout")" -ge 1 ]; then
    first="$(head -n 1 "$run_dir/stdout")"
    if [[ "$first" =~ ^LIVEKIT_URL=([^[:space:]]+) ]]; then
      url="${BASH_REMATCH[1]}"
      break
    fi
    show_sandbox_output
    die "the first line lktop sandbox printed is not LIVEKIT_URL=...: $first"
  fi
  [ "$SECONDS" -lt "$deadline" ] || { show_sandbox_output; die "lktop sandbox printed no URL within ${STARTUP_TIMEOUT_S} s"; }
  sleep 0.1
done
echo "sandbox pid $sandbox_pid at $url"
export LIVEKIT_URL="$url" LIVEKIT_API_KEY="$api_key" LIVEKIT_API_SECRET="$api_secret"

total_passed=0
total_failed=0
failures=()

# run_checks NAME CMD...: runs one check script, echoes its output, adds up its closing line.
run_checks() {
  local name="$1"; shift
  step "$name"
  local out="$run_dir/$name.out" rc=0
  timeout --kill-after=5 "$SCRIPT_TIMEOUT_S" "$@" 2>&1 | tee "$out" || rc=$?
  local line p f
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)"
  if [ -n "$line" ]; then
    p="${line%% passed*}"; f="${line#*, }"; f="${f%% failed*}"
    total_passed=$((total_passed + p)); total_failed=$((total_failed + f))
  else
    total_failed=$((total_failed + 1))
  fi
  if [ "$rc" -ne 0 ]; then
    [ -n "$line" ] && [ "${f:-0}" -gt 0 ] || total_failed=$((total_failed + 1))
    failures+=("$name (exit status $rc)")
  fi
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    set +e; wait "$sandbox_pid"; local src=$?; set -e
    sandbox_pid=""
    show_sandbox_output
    die "lktop sandbox died (status $src) during the $name checks"
  fi
}

run_checks python env PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" "$here/python/check_room_service.py"
run_checks node node "$node_dir/check_room_service.mjs"
run_checks python-services env PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" \
  "$here/python/check_egress_ingress_agents.py"
run_checks node-services node "$node_dir/check_egress_ingress_agents.mjs"
run_checks python-webhooks env PYTHONDONTWRITEBYTECODE=1 WEBHOOK_PORT="$webhook_port" \
  "$venv/bin/python" "$here/python/check_webhooks.py"

step "stop lktop sandbox (SIGTERM)"
kill -TERM "$sandbox_pid"
stopped=""
for _ in $(seq 100); do
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then stopped=1; break; fi
  sleep 0.1
done
if [ -n "$stopped" ]; then
  set +e; wait "$sandbox_pid"; rc=$?; set -e
  sandbox_pid=""
  # 143 = 128 + SIGTERM: a clean stop on a signal, the shell convention lktop follows.
  if [ "$rc" -eq 143 ]; then
    echo "ok   sandbox_clean_shutdown"
    total_passed=$((total_passed + 1))
  else
    echo "FAIL sandbox_clean_shutdown: exit status $rc after SIGTERM, want 143"
    show_sandbox_output
    total_failed=$((total_failed + 1))
    failures+=("sandbox shutdown (exit status $rc)")
  fi
else
  echo "FAIL sandbox_clean_shutdown: still running 10 s after SIGTERM"
  total_failed=$((total_failed + 1))
  failures+=("sandbox shutdown (hung)")
fi

echo
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'conformance FAILED: %s\n' "${failures[*]}" >&2
fi
# One word and a colon keep this total apart from the per-script lines above (.ci/run adds it up).
echo "conformance: $total_passed passed, $total_failed failed"
[ "${#failures[@]}" -eq 0 ] && [ "$total_failed" -eq 0 ]
