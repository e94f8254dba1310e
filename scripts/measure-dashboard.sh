#!/usr/bin/env bash
# Idle CPU and memory of the running dashboard, in a real terminal (tmux), release build.
#
#   scripts/measure-dashboard.sh [IDLE_SECONDS] [DEMO_MINUTES]     (defaults: 60 and 10)
#
# 1. Idle: lktop watching a sandbox with no rooms (`--scenario none`), so nothing changes but
#    the pool statuses and the clock; CPU time (utime+stime from /proc) over IDLE_SECONDS.
# 2. Demo: `lktop` with no configuration (built-in sandbox, demo scenario); RSS every minute up
#    to DEMO_MINUTES. The process includes the embedded sandbox's simulation.
set -euo pipefail
idle_seconds=${1:-60}
demo_minutes=${2:-10}
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/lktop
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
    tmux kill-session -t lktop-measure 2>/dev/null || true
    [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
lktop_pid() {
    # The lktop process tmux started (the pane's child).
    local pane
    pane=$(tmux list-panes -t lktop-measure -F '#{pane_pid}')
    pgrep -P "$pane" -x lktop || echo "$pane"
}
start() {
    tmux kill-session -t lktop-measure 2>/dev/null || true
    tmux new-session -d -s lktop-measure -x 160 -y 48 -e HOME="$work" -e LKTOP_LOG_FILE="$work/lktop.log" "$@"
    sleep 5
}

# --- 1. idle
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" sandbox --port "$port" --scenario none >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
sleep 1
start env LIVEKIT_URL="http://127.0.0.1:$port" LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret "$bin"
pid=$(lktop_pid)
before=$(cpu_ticks "$pid")
sleep "$idle_seconds"
after=$(cpu_ticks "$pid")
idle_percent=$(python3 -c "print(f'{($after-$before)/$ticks/$idle_seconds*100:.2f}')")
echo "idle: ${idle_percent} % of one core over ${idle_seconds} s (no rooms, statuses every second)"
tmux send-keys -t lktop-measure q
sleep 1
kill "$sandbox_pid"
sandbox_pid=""

# --- 2. demo memory, sampled every minute
start "$bin"
pid=$(lktop_pid)
series=""
for minute in $(seq 1 "$demo_minutes"); do
    sleep $(( minute == 1 ? 55 : 60 ))
    rss=$(rss_kib "$pid")
    [ "$minute" -eq 1 ] && rss_1=$rss
    series="$series $((rss / 1024))"
done
rss_n=$(rss_kib "$pid")
cpu=$(cpu_ticks "$pid")
echo "demo: RSS after 1 min: $((rss_1 / 1024)) MiB (${rss_1} KiB)"
echo "demo: RSS after ${demo_minutes} min: $((rss_n / 1024)) MiB (${rss_n} KiB)"
echo "demo: RSS each minute (MiB):$series"
python3 -c "print(f'demo: RSS change {(${rss_n}-${rss_1})/${rss_1}*100:+.1f} %; CPU {${cpu}/${ticks}/(${demo_minutes}*60)*100:.2f} % of one core on average')"
tmux capture-pane -t lktop-measure -p | head -3
tmux send-keys -t lktop-measure q
sleep 1
