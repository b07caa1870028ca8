#!/usr/bin/env bash
# The failover benchmark: scripts/benchmark.sh [--kills 30 --stops 30 --partitions 10 --soak 600 ...]
# (--help lists the options). Needs Docker with the images buildable (on a
# machine without registries run scripts/prepare-offline-images.sh first) and
# wrk for the load section (Debian's package, installed here when missing).
# Writes results/bench/<timestamp>/report.{md,json} and failover.png, and
# copies them to results/bench/latest/.
# It uses the project zkleader-bench on 127.0.0.1:25000-25003; override with
# ZKLEADER_BENCH_PROJECT and ZKLEADER_BENCH_PORT_BASE (gateway = base, apiN = base + N).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
STAMP="$VENV/.bench-requirements.sha256"
export COMPOSE_BAKE="${COMPOSE_BAKE:-false}"

# shellcheck source=scripts/lib/require.sh
source scripts/lib/require.sh
require_programs python3:python3 sha256sum:coreutils wrk:wrk

if [ ! -x "$VENV/bin/python" ]; then
    require_python_venv
    python3 -m venv "$VENV"
fi
want="$(cat requirements-bench.txt requirements-dev.txt services/api/requirements.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
    echo "$want" >"$STAMP"
fi

export PYTHONPATH="services/api:.${PYTHONPATH:+:$PYTHONPATH}"
exec "$VENV/bin/python" -m bench "$@"
