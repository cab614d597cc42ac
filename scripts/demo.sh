#!/usr/bin/env bash
# Quick start: set up, start the server on embedded defaults, and stream one interpretation.
#
#   bash scripts/demo.sh ["your question"] [SET] [NUMBER]
#
# Creates .venv, installs Qianshi, starts qianshi-server (embedded Qdrant, grounded generator: no GPU,
# no external server, no download) with its state in .state/, waits until it is SERVING, runs
# `qianshi interpret` so you watch the progress, the poem, the sources and the text stream in, then
# stops the server. The server alone: `.venv/bin/qianshi-server --state-dir .state`.
set -euo pipefail
cd "$(dirname "$0")/.."

QUESTION=${1:-"我今年換工作會順利嗎？"}
SET=${2:-mazu60}
NUMBER=${3:-23}
PORT=${QIANSHI_DEMO_PORT:-50051}

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ./client -e .  # the server requires qianshi-client (client/)

.venv/bin/qianshi-server --listen "127.0.0.1:$PORT" --state-dir .state &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
.venv/bin/python - "$PORT" <<'PY'
import sys, time, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
stub = health_pb2_grpc.HealthStub(channel)
deadline = time.monotonic() + 300
while True:
    try:
        if stub.Check(health_pb2.HealthCheckRequest(), timeout=2).status == health_pb2.HealthCheckResponse.SERVING:
            break
    except grpc.RpcError:
        pass
    if time.monotonic() > deadline:
        sys.exit("the server did not become ready")
    time.sleep(0.2)
PY
.venv/bin/qianshi --target "127.0.0.1:$PORT" interpret --set "$SET" --number "$NUMBER" --question "$QUESTION"
