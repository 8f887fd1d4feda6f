#!/usr/bin/env bash
# The local national-network topology (nginx + 3 server processes + PostgreSQL + Redis):
#   scripts/topology.sh start [--port 8080] [--processes 3]   what `make topology` runs
#   scripts/topology.sh status | stop                          `make topology-stop` runs stop
# Details: deploy/topology.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m deploy.topology "$@"
