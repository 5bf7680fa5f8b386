#!/usr/bin/env bash
# The production Temporal topology of docker-compose.yml on this machine, without Docker: Temporal server
# 1.29.1 (the same version as the compose image) on the local Postgres, with the `postgres12` schema
# applied by temporal-sql-tool exactly as the auto-setup image applies it. docs/operations.md explains it.
#
#   bash scripts/temporal-cluster.sh build    build temporal-server and temporal-sql-tool once (Go >= 1.25)
#   bash scripts/temporal-cluster.sh setup    create the two databases and apply the schema (idempotent)
#   bash scripts/temporal-cluster.sh start    start the server, register `default` and the search attributes
#   bash scripts/temporal-cluster.sh stop     stop it (SIGTERM, then SIGKILL after 30 s)
#   bash scripts/temporal-cluster.sh status   running or not, address, pid, log
#   bash scripts/temporal-cluster.sh up       build + setup + start
#   bash scripts/temporal-cluster.sh drop     stop, then drop both databases and the state dir
#   bash scripts/temporal-cluster.sh env      print TEMPORAL_ADDRESS=... (for `eval`)
#
# Settings (environment):
#   TEMPORAL_CLUSTER_PORT      frontend gRPC port (7233); the server uses the 10 ports from there (all
#                              below 32768: Temporal stores membership ports as a Postgres smallint):
#                              +0..+3 gRPC of frontend/history/matching/worker, +4..+7 their membership
#                              ports, +8 frontend HTTP, +9 Prometheus metrics
#   TEMPORAL_CLUSTER_DB        name of the main database (temporal); visibility is <name>_visibility
#   TEMPORAL_CLUSTER_PG_HOST / _PG_PORT / _PG_USER / _PG_PASSWORD   Postgres (127.0.0.1 / 5432 / postgres / empty)
#   TEMPORAL_CLUSTER_STATE     state dir: config, pid, log (<repo>/.data/temporal-cluster-<port>)
#   TEMPORAL_CLUSTER_SHARDS    history shards (4, as the auto-setup image); fixed once the database exists
#   TEMPORAL_CLUSTER_LOG_LEVEL server log level (info)
#   TEMPORAL_CLUSTER_SQL_MAX_CONNS / _SQL_VIS_MAX_CONNS   connection pools (10 / 5; the image: 20 / 10)
#   TEMPORAL_CLUSTER_NAMESPACE namespace to register (default), retention TEMPORAL_CLUSTER_RETENTION (7d)
#   TEMPORAL_CLUSTER_DYNAMIC_CONFIG  the dynamic config file the server reads, copied at every start
#                              (deploy/temporal/dynamicconfig.yaml, as docker-compose.yml mounts it)
#   PROBECTL_NOTIFY_CACHE      cache root (~/.cache/probectl-notify); binaries in temporal-server/v1.29.1/
# Progress goes to stderr; `env` and `status` print to stdout.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

VERSION=v1.29.1
MODULE=go.temporal.io/server
cache="${PROBECTL_NOTIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probectl-notify}/temporal-server/$VERSION"
server_bin="$cache/temporal-server"
sqltool_bin="$cache/temporal-sql-tool"
schema_dir="$cache/schema/postgresql/v12"

port="${TEMPORAL_CLUSTER_PORT:-7233}"
db="${TEMPORAL_CLUSTER_DB:-temporal}"
vis_db="${db}_visibility"
pg_host="${TEMPORAL_CLUSTER_PG_HOST:-127.0.0.1}"
pg_port="${TEMPORAL_CLUSTER_PG_PORT:-5432}"
pg_user="${TEMPORAL_CLUSTER_PG_USER:-postgres}"
pg_password="${TEMPORAL_CLUSTER_PG_PASSWORD:-}"
state="${TEMPORAL_CLUSTER_STATE:-$root/.data/temporal-cluster-$port}"
shards="${TEMPORAL_CLUSTER_SHARDS:-4}"
log_level="${TEMPORAL_CLUSTER_LOG_LEVEL:-info}"
max_conns="${TEMPORAL_CLUSTER_SQL_MAX_CONNS:-10}"
vis_max_conns="${TEMPORAL_CLUSTER_SQL_VIS_MAX_CONNS:-5}"
namespace="${TEMPORAL_CLUSTER_NAMESPACE:-default}"
retention="${TEMPORAL_CLUSTER_RETENTION:-7d}"
dynamic_config="${TEMPORAL_CLUSTER_DYNAMIC_CONFIG:-$root/deploy/temporal/dynamicconfig.yaml}"
address="127.0.0.1:$port"
pidfile="$state/server.pid"
logfile="$state/server.log"

say() { echo "[temporal-cluster] $*" >&2; }
die() { say "error: $*"; exit 1; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

# ---- build ------------------------------------------------------------------------------------------

built() { [ -x "$server_bin" ] && [ -x "$sqltool_bin" ] && [ -f "$schema_dir/temporal/versioned/v1.0/manifest.json" ]; }

cmd_build() {
  if built; then say "using the cached binaries in $cache"; return 0; fi
  command -v go >/dev/null 2>&1 || die "no Go toolchain: the server is built from $MODULE@$VERSION (go.mod needs Go >= 1.25)"
  mkdir -p "$cache"
  local blog="$cache/build.log" tmp="$cache/.build-$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  say "building $MODULE@$VERSION cmd/server and cmd/tools/sql (CGO_ENABLED=0, -tags disable_grpc_modules) into $cache"
  say "a cold build downloads the modules and compiles for several minutes; log: $blog"
  local start; start=$(date +%s)
  # `go install pkg@version` builds with the module's own go.mod (no replace directives at this tag),
  # as the server Makefile's temporal-server and temporal-sql-tool targets do from a checkout.
  CGO_ENABLED=0 GOBIN="$tmp" go install -tags disable_grpc_modules \
    "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/tools/sql@$VERSION" >"$blog" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    kill -0 "$pid" 2>/dev/null && say "  ... still building ($(( $(date +%s) - start ))s)"
  done
  if ! wait "$pid"; then
    tail -n 20 "$blog" >&2
    rm -rf "$tmp"
    die "the build failed (see $blog)"
  fi
  mv "$tmp/server" "$server_bin"
  mv "$tmp/sql" "$sqltool_bin"
  rm -rf "$tmp"
  # The schema files ship in the module (the auto-setup image copies the same tree to /etc/temporal/schema).
  local moddir
  moddir="$(go env GOMODCACHE)/$MODULE@$VERSION"
  [ -d "$moddir/schema/postgresql/v12" ] || die "schema not found in $moddir"
  rm -rf "$cache/schema"; mkdir -p "$cache/schema/postgresql"
  cp -R "$moddir/schema/postgresql/v12" "$cache/schema/postgresql/"
  chmod -R u+w "$cache/schema"
  say "built temporal-server and temporal-sql-tool in $(( $(date +%s) - start ))s"
}

require_built() { built || die "binaries missing: run \`bash scripts/temporal-cluster.sh build\` first"; }

# ---- databases and schema ---------------------------------------------------------------------------

sqltool() {
  SQL_PASSWORD="$pg_password" "$sqltool_bin" --plugin postgres12 --ep "$pg_host" -p "$pg_port" -u "$pg_user" "$@"
}

db_exists() {
  PGPASSWORD="$pg_password" psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -Atqc \
    "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1
}

schema_version() {
  PGPASSWORD="$pg_password" psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$1" -Atqc \
    "SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = '$1'" 2>/dev/null || true
}

# What the auto-setup image's setup_postgres_schema does for each database: create, setup-schema -v 0.0,
# update-schema -d <versioned dir>. update-schema is a no-op when the schema is current.
# The tool's output goes to $state/setup.log (its tail is printed when a step fails).
sqltool_logged() {
  mkdir -p "$state"
  echo "---- temporal-sql-tool $* ($(date -u +%FT%TZ))" >>"$state/setup.log"
  if ! sqltool "$@" >>"$state/setup.log" 2>&1; then
    tail -n 15 "$state/setup.log" >&2
    die "temporal-sql-tool $* failed (see $state/setup.log)"
  fi
}

setup_one() {
  local name="$1" dir="$2"
  if db_exists "$name"; then say "database $name exists"; else sqltool_logged --db "$name" create; fi
  if [ -z "$(schema_version "$name")" ]; then sqltool_logged --db "$name" setup-schema -v 0.0; fi
  sqltool_logged --db "$name" update-schema -d "$dir"
  say "database $name: schema version $(schema_version "$name")"
}

cmd_setup() {
  require_built
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "TEMPORAL_CLUSTER_DB must be a plain lower-case identifier"
  local start; start=$(date +%s)
  setup_one "$db" "$schema_dir/temporal/versioned"
  setup_one "$vis_db" "$schema_dir/visibility/versioned"
  say "schema set up in $(( $(date +%s) - start ))s"
}

cmd_drop() {
  cmd_stop
  require_built
  for name in "$db" "$vis_db"; do
    if db_exists "$name"; then sqltool_logged --db "$name" drop --force; say "dropped $name"; fi
  done
  rm -rf "$state"
}

# ---- config -----------------------------------------------------------------------------------------

write_config() {
  mkdir -p "$state/config"
  # The config carries the Postgres password when one is set: readable by its owner only.
  touch "$state/config/development.yaml"
  chmod 600 "$state/config/development.yaml"
  # The server reads <root>/config/<env>.yaml; `development` is the server's default env name.
  cat >"$state/config/development.yaml" <<EOF
# Generated by scripts/temporal-cluster.sh; rewritten at every start.
log:
  stdout: true
  level: $log_level
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: $shards
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: $db
        connectAddr: "$pg_host:$pg_port"
        connectProtocol: tcp
        user: "$pg_user"
        password: "$pg_password"
        maxConns: $max_conns
        maxIdleConns: $max_conns
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: $vis_db
        connectAddr: "$pg_host:$pg_port"
        connectProtocol: tcp
        user: "$pg_user"
        password: "$pg_password"
        maxConns: $vis_max_conns
        maxIdleConns: $vis_max_conns
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  pprof:
    port: 0
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:$((port + 9))"
services:
  frontend:
    rpc: { grpcPort: $port, membershipPort: $((port + 4)), bindOnLocalHost: true, httpPort: $((port + 8)) }
  history:
    rpc: { grpcPort: $((port + 1)), membershipPort: $((port + 5)), bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: $((port + 2)), membershipPort: $((port + 6)), bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: $((port + 3)), membershipPort: $((port + 7)), bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:$port"
      httpAddress: "127.0.0.1:$((port + 8))"
dcRedirectionPolicy:
  policy: noop
# Archival as the image's template: available to the cluster, off for every namespace.
archival:
  history:
    state: enabled
    enableRead: true
    provider: { filestore: { fileMode: "0666", dirMode: "0766" } }
  visibility:
    state: enabled
    enableRead: true
    provider: { filestore: { fileMode: "0666", dirMode: "0766" } }
namespaceDefaults:
  archival:
    history: { state: disabled, URI: "file://$state/archival/history" }
    visibility: { state: disabled, URI: "file://$state/archival/visibility" }
dynamicConfigClient:
  filepath: "$state/config/dynamicconfig.yaml"
  pollInterval: 60s
EOF
  # The server's defaults, as in the compose image (deploy/temporal/dynamicconfig.yaml), plus what probectl-notify
  # asks for: the priority matcher and one write partition for its task queue, so a critical incident's tasks
  # overtake a storm's backlog (docs/operations.md, "Storms"). Nothing dev-only (no forced search-attribute cache
  # refresh).
  [ -f "$dynamic_config" ] || die "TEMPORAL_CLUSTER_DYNAMIC_CONFIG=$dynamic_config: no such file"
  cp "$dynamic_config" "$state/config/dynamicconfig.yaml"
}

# ---- start / stop -----------------------------------------------------------------------------------

# The last errors of the server log, shortened (its lines carry whole stack traces).
log_errors() {
  { grep -E '"level":"(error|fatal|dpanic|panic)"' "$logfile" || tail -n 10 "$logfile"; } | tail -n 5 | cut -c1-400 >&2
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

temporal_cli() { bash "$here/temporal-cli.sh"; }

cmd_start() {
  require_built
  if pid=$(running_pid); then say "already running (pid $pid) at $address"; return 0; fi
  # cluster_membership.rpc_port is a smallint in the schema: a membership port above 32767 stops the server.
  [ $((port + 9)) -le 32767 ] || die "TEMPORAL_CLUSTER_PORT=$port: the server's ports must stay below 32768 (membership ports are stored as smallint)"
  for p in $(seq "$port" $((port + 9))); do
    port_busy "$p" && die "port $p is in use (the server needs $port..$((port + 9)); set TEMPORAL_CLUSTER_PORT)"
  done
  [ -n "$(schema_version "$db")" ] || die "database $db has no schema: run \`bash scripts/temporal-cluster.sh setup\` first"
  write_config
  local cli; cli=$(temporal_cli)
  local start; start=$(date +%s)
  say "starting temporal-server $VERSION at $address ($shards history shards, databases $db and $vis_db); log: $logfile"
  echo "---- start $(date -u +%FT%TZ)" >>"$logfile"
  # setsid: the server gets its own process group, so `stop` (and a test's cleanup) can end it alone.
  setsid "$server_bin" --root "$state" --config config --env development --allow-no-auth start >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local pid; pid=$(cat "$pidfile")
  until "$cli" operator cluster health --address "$address" 2>/dev/null | grep -q SERVING; do
    kill -0 "$pid" 2>/dev/null || { log_errors; die "the server exited during start-up (see $logfile)"; }
    [ $(( $(date +%s) - start )) -lt 120 ] || { log_errors; die "not serving after 120 s (see $logfile)"; }
    sleep 0.5
  done
  say "serving after $(( $(date +%s) - start ))s"

  # The auto-setup image registers the default namespace the same way (`temporal operator namespace create`).
  if ! "$cli" operator namespace describe --address "$address" -n "$namespace" >/dev/null 2>&1; then
    "$cli" operator namespace create --address "$address" --retention "$retention" \
      --description "Default namespace for Temporal Server." -n "$namespace" >&2 || true
  fi
  until "$cli" operator namespace describe --address "$address" -n "$namespace" >/dev/null 2>&1; do
    [ $(( $(date +%s) - start )) -lt 120 ] || die "namespace $namespace not visible after 120 s"
    sleep 0.5
  done

  # Search attributes through the project's own command (what an operator runs against a real cluster).
  local cli_js="$root/dist/cli/main.js"
  if [ ! -f "$cli_js" ]; then say "building the project (dist/ is missing)"; (cd "$root" && npm run -s build) >&2; fi
  until TEMPORAL_ADDRESS="$address" TEMPORAL_NAMESPACE="$namespace" node "$cli_js" setup-temporal >&2; do
    [ $(( $(date +%s) - start )) -lt 120 ] || die "probectl-notify setup-temporal kept failing"
    sleep 1
  done
  # The frontend learns new attributes through its namespace cache: wait until a query that uses one works.
  until "$cli" workflow count --address "$address" -n "$namespace" --query "ProbectlTenant = 'x'" >/dev/null 2>&1; do
    [ $(( $(date +%s) - start )) -lt 120 ] || die "the search attributes are not queryable after 120 s"
    sleep 0.5
  done
  say "ready at $address in $(( $(date +%s) - start ))s (namespace $namespace, search attributes registered)"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then say "not running"; rm -f "$pidfile"; return 0; fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  say "stopped after $(elapsed)"
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running pid=$pid address=$address databases=$db,$vis_db state=$state log=$logfile"
  else
    echo "stopped address=$address databases=$db,$vis_db state=$state"
    return 3
  fi
}

case "${1:-}" in
  build) cmd_build ;;
  setup) cmd_setup ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  up) cmd_build; cmd_setup; cmd_start ;;
  drop) cmd_drop ;;
  env) echo "TEMPORAL_ADDRESS=$address"; echo "TEMPORAL_NAMESPACE=$namespace" ;;
  *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
