#!/bin/sh
# Starts one MoMA service by name: gateway | executor | intent | orchestrator | scoring.
# Anything else is run as a command, e.g. `node --version`.
set -eu
service="${1:-gateway}"
case "$service" in
  gateway|executor|intent|orchestrator|scoring)
    shift || true
    exec node "/app/services/$service/src/main.ts" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
