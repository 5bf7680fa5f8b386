#!/usr/bin/env bash
# The cluster suite (`npm run test:cluster`): builds (the processes run dist/main.js), then runs
# test/cluster on Temporal server 1.29.1 over Postgres (scripts/temporal-cluster.sh), three workers and two
# API replicas. CLUSTER_MODE=reduced runs the smaller form CI uses. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
exec npx jest --runInBand -c jest.cluster.config.js "$@"
