#!/usr/bin/env bash
# `make demo`: ibkr-sim serving the demo paper account, and JupyterLab on the example notebooks.
#
# Run by the Makefile once everything is installed (the TypeScript build, notebooks/node_modules,
# .venv with JupyterLab and the jupyterlab-ibkr extension). It
#   1. writes the tslab kernelspec into .venv (never into the user's own Jupyter folders);
#   2. starts ibkr-sim with notebooks/demo-account.json on a free loopback port (DEMO_PORT picks one;
#      never 7497 by default, so a TWS on this machine is left alone), unless IBKR_BROKER=ibkr-paper
#      says to use the user's own paper TWS / IB Gateway; IBKR_BROKER=ibkr-live is refused;
#   3. starts JupyterLab on 127.0.0.1 with notebooks/ as its root, the kernels getting IBKR_BROKER and
#      IBKR_PORT, and prints the URL to open;
#   4. on Ctrl-C (or SIGTERM), stops JupyterLab (and its kernels) and the simulator, and exits.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
NOTEBOOKS="$ROOT/notebooks"
TSLAB="$NOTEBOOKS/node_modules/.bin/tslab"
SIM_CLI="$ROOT/kernel-lib/dist/simulator/cli.js"
SCENARIO="$NOTEBOOKS/demo-account.json"

say() { printf 'demo: %s\n' "$*"; }
die() {
  printf 'demo: %s\n' "$*" >&2
  exit 2
}

for needed in "$VENV/bin/jupyter" "$TSLAB" "$SIM_CLI"; do
  [[ -e "$needed" ]] || die "$needed is missing: run \`make demo\`, which installs and builds what the demo needs"
done

# ── which broker ───────────────────────────────────────────────────────────────────────────────
broker="${IBKR_BROKER:-}"
case "$broker" in
  "") use_sim=1 ;;
  ibkr-paper) use_sim=0 ;;
  ibkr-live)
    die "IBKR_BROKER=ibkr-live: the demo never connects to a live account. Unset IBKR_BROKER for the simulator, or set IBKR_BROKER=ibkr-paper with your paper TWS / IB Gateway running."
    ;;
  *) die "IBKR_BROKER=\"$broker\" is not a broker: leave it unset (the simulator) or use ibkr-paper (your paper TWS / IB Gateway)." ;;
esac

# ── the tslab kernelspec, inside the venv ──────────────────────────────────────────────────────
kernel_dir="$VENV/share/jupyter/kernels/tslab"
mkdir -p "$kernel_dir"
cat >"$kernel_dir/kernel.json" <<EOF
{
  "argv": ["$TSLAB", "kernel", "--config-path", "{connection_file}"],
  "display_name": "TypeScript",
  "language": "typescript"
}
EOF

logs="$(mktemp -d "${TMPDIR:-/tmp}/ibkr-demo.XXXXXX")"
sim_pid=""
lab_pid=""

stop_pid() { # SIGTERM, then SIGKILL after a grace period
  local pid="$1" grace="$2"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  trap - INT TERM EXIT
  [[ -n "$lab_pid$sim_pid" ]] && say "stopping…"
  stop_pid "$lab_pid" 20 # JupyterLab shuts its kernels down on SIGTERM
  stop_pid "$sim_pid" 5
  wait 2>/dev/null || true
  [[ -n "$lab_pid$sim_pid" ]] && say "stopped (logs in $logs)"
  lab_pid=""
  sim_pid=""
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

# The children run in their own sessions: Ctrl-C reaches this script only, which stops them in order
# (JupyterLab would otherwise ask "Shutdown this Jupyter server (y/[n])?").

# ── the simulator ──────────────────────────────────────────────────────────────────────────────
if [[ "$use_sim" == 1 ]]; then
  setsid node "$SIM_CLI" --port "${DEMO_PORT:-0}" --scenario "$SCENARIO" >"$logs/sim.out" 2>"$logs/sim.log" </dev/null &
  sim_pid=$!
  sim_port=""
  for ((i = 0; i < 150; i++)); do
    if [[ "$(cat "$logs/sim.out")" =~ listening\ on\ 127\.0\.0\.1:([0-9]+) ]]; then
      sim_port="${BASH_REMATCH[1]}"
      break
    fi
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$sim_port" ]] || die "ibkr-sim did not start: $(cat "$logs/sim.out" "$logs/sim.log")"
  export IBKR_BROKER=ibkr-paper IBKR_PORT="$sim_port"
  say "ibkr-sim serves the demo paper account on 127.0.0.1:$sim_port (scenario notebooks/demo-account.json)"
else
  say "IBKR_BROKER=ibkr-paper: no simulator; the notebooks connect to your paper TWS / IB Gateway" \
    "(${IBKR_HOST:-127.0.0.1}, port ${IBKR_PORT:-7497, then 4002}). Check it with: npx ibkr-notebook doctor"
fi

# ── JupyterLab ─────────────────────────────────────────────────────────────────────────────────
lab_port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
# The venv's kernelspecs (tslab) before any of the user's own.
export JUPYTER_PREFER_ENV_PATH=1
as_root=()
[[ "$(id -u)" == 0 ]] && as_root=(--allow-root) # containers and CI run as root
setsid "$VENV/bin/jupyter" lab --no-browser --ip=127.0.0.1 --port="$lab_port" --ServerApp.port_retries=0 \
  --ServerApp.root_dir="$NOTEBOOKS" --IdentityProvider.token="$token" "${as_root[@]}" \
  >"$logs/jupyterlab.log" 2>&1 </dev/null &
lab_pid=$!

url="http://127.0.0.1:$lab_port/lab?token=$token"
ready=0
for ((i = 0; i < 600; i++)); do
  if "$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "http://127.0.0.1:$lab_port/api/status?token=$token" 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$lab_pid" 2>/dev/null || break
  sleep 0.2
done
[[ "$ready" == 1 ]] || die "JupyterLab did not start: $(tail -n 30 "$logs/jupyterlab.log")"

cat <<EOF

  JupyterLab is ready with the example notebooks. Open:

      $url

  Kernels get IBKR_BROKER=${IBKR_BROKER}${IBKR_PORT:+ IBKR_PORT=$IBKR_PORT}; logs in $logs
  Ctrl-C stops JupyterLab${sim_pid:+ and the simulator}.

EOF

# Wait until Ctrl-C, or until JupyterLab or the simulator ends on its own.
while kill -0 "$lab_pid" 2>/dev/null && { [[ -z "$sim_pid" ]] || kill -0 "$sim_pid" 2>/dev/null; }; do
  sleep 0.5
done
say "JupyterLab or the simulator stopped on its own; see $logs"
exit 1
