#!/usr/bin/env bash
# Real Jaeger v2 for tooltrail's integration tests and CI (see docs/jaeger.md).
#
#   scripts/jaeger.sh ensure   print the path of a Jaeger v2 binary, building it first if needed
#   scripts/jaeger.sh start    start it on 127.0.0.1 in the background and wait until it answers
#   scripts/jaeger.sh stop     stop the Jaeger this script started (by PID) and wait for it to exit
#   scripts/jaeger.sh stop-stale   also stop a tooltrail test Jaeger left on our ports by another
#                              checkout (CI uses this); never touches any other process
#   scripts/jaeger.sh status   say whether it is running
#
# The binary: $JAEGER_BIN when set. Otherwise it is built from source fetched through the Go
# module proxy (never downloaded as a binary) into $HOME/.cache/tooltrail/jaeger/jaeger-<version>
# (outside the checkout, so a fresh clone, as in CI, reuses it; JAEGER_BIN_CACHE moves it) and
# reused from there: the build takes minutes, once per machine. Go's build and module caches stay
# where Go keeps them (go env GOCACHE GOMODCACHE); the PID file and logs stay in .cache/jaeger.
# The version wanted is Jaeger v2.20.0, pinned by commit because Jaeger's v2 tags are not valid
# Go module versions. A proxy that refuses that commit gets the newest module version it does
# serve that carries the v2 binary (Jaeger tags each release twice: module v1.76.0 is Jaeger
# v2.13.0); the script says so. `go install` cannot build Jaeger (its go.mod has replace
# directives), so the module is downloaded and built in place with `go build`. See
# docs/decisions.md.
#
# Listens only on 127.0.0.1 (scripts/jaeger/config.yaml): OTLP/HTTP 4318, query API/UI 16686,
# query gRPC 16685, health 13133. Storage is in memory: stopping Jaeger forgets every trace.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/process.sh
source "$ROOT/scripts/lib/process.sh"
CACHE_DIR="$ROOT/.cache/jaeger" # this checkout's run state: PID file, logs
# Built binaries, shared by every checkout on the machine (CI runs in a fresh clone).
BIN_CACHE_DIR="${JAEGER_BIN_CACHE:-$HOME/.cache/tooltrail/jaeger}"
CONFIG="$ROOT/scripts/jaeger/config.yaml"
PID_FILE="$CACHE_DIR/jaeger.pid"
LOG_FILE="$CACHE_DIR/jaeger.log"
BUILD_LOG="$BIN_CACHE_DIR/build.log"

HOST=127.0.0.1
OTLP_HTTP_PORT=4318
QUERY_HTTP_PORT=16686
QUERY_GRPC_PORT=16685
HEALTH_PORT=13133
START_TIMEOUT_S="${JAEGER_START_TIMEOUT:-60}"

MODULE=github.com/jaegertracing/jaeger
PINNED_COMMIT=798e4b0fcf22609e381df764a01461affd813e1e # Jaeger v2.20.0
PINNED_RELEASE=v2.20.0
# The newest module version the machines' proxy serves that contains cmd/jaeger (Jaeger v2).
FALLBACK_VERSION=v1.76.0

PINNED_BIN="$BIN_CACHE_DIR/jaeger-$PINNED_RELEASE-${PINNED_COMMIT:0:12}"
FALLBACK_BIN="$BIN_CACHE_DIR/jaeger-$FALLBACK_VERSION"

log() { echo "jaeger.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# ensure: find or build the binary

# go mod download <module>@<version>; prints the JSON on stdout, returns go's status.
go_download() {
  local tmp rc
  tmp="$(mktemp -d)"
  # Outside any module or workspace, so nothing of ours is consulted or changed.
  (cd "$tmp" && GOWORK=off GO111MODULE=on go mod download -json "$MODULE@$1") && rc=0 || rc=$?
  rmdir "$tmp"
  return "$rc"
}

# json_field <json> <field>: the first string value of "field" (go's JSON is one field per line).
json_field() {
  sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$1" | head -n 1
}

# build <module dir> <output path> <module version> <why>
build() {
  local dir="$1" out="$2" version="$3" why="$4"
  local release commit date tmp_out started elapsed
  # The Jaeger v2 release a module version carries, from the CHANGELOG heading "v1.x.y / v2.x.y".
  release="$(grep -m 1 -oE '^v1\.[0-9]+\.[0-9]+ / v2\.[0-9]+\.[0-9]+' "$dir/CHANGELOG.md" | sed 's#.* / ##' || true)"
  commit="$(json_field "$DOWNLOAD_JSON" Hash)"
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [[ -d "$dir/cmd/jaeger" ]] || die "$MODULE@$version has no cmd/jaeger (not a Jaeger v2 source tree)"
  log "building Jaeger ${release:-v2 (release unknown)} from $MODULE@$version ($(go env GOVERSION)); this takes minutes the first time, build output in $BUILD_LOG"
  tmp_out="$out.partial.$$"
  trap "rm -f $(printf %q "$tmp_out")" EXIT # an interrupted build leaves nothing behind
  started=$SECONDS
  # Built inside the module cache (read-only), output outside it. -mod=readonly: the module's
  # own go.mod/go.sum decide every dependency. Dependencies come through the Go module proxy.
  if ! (cd "$dir" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath \
    -ldflags "-s -w -X $MODULE/internal/version.latestVersion=${release:-$version} -X $MODULE/internal/version.commitSHA=$commit -X $MODULE/internal/version.date=$date" \
    -o "$tmp_out" ./cmd/jaeger) >"$BUILD_LOG" 2>&1; then
    rm -f "$tmp_out"
    log "go build failed; the end of $BUILD_LOG:"
    grep -v '^go: downloading ' "$BUILD_LOG" | tail -n 40 >&2 || true
    die "could not build Jaeger from $MODULE@$version"
  fi
  elapsed=$((SECONDS - started))
  mv -f "$tmp_out" "$out"
  trap - EXIT
  # Line 1: what it is (printed on reuse); line 2: why this version.
  printf 'Jaeger %s (module %s@%s, commit %s), built %s in %ss with %s\n%s\n' \
    "${release:-v2}" "$MODULE" "$version" "${commit:-unknown}" "$date" "$elapsed" "$(go env GOVERSION)" "$why" >"$out.info"
  log "built $out in ${elapsed}s"
}

ensure() {
  if [[ -n "${JAEGER_BIN:-}" ]]; then
    [[ -f "$JAEGER_BIN" && -x "$JAEGER_BIN" ]] || die "JAEGER_BIN=$JAEGER_BIN is not an executable file"
    log "using JAEGER_BIN=$JAEGER_BIN"
    echo "$JAEGER_BIN"
    return
  fi
  mkdir -p "$BIN_CACHE_DIR"
  # One build at a time per machine; a second caller waits and then reuses the result.
  exec 9>"$BIN_CACHE_DIR/build.lock"
  flock 9
  local b
  for b in "$PINNED_BIN" "$FALLBACK_BIN"; do
    if [[ -x "$b" ]]; then
      [[ -n "${QUIET_REUSE:-}" ]] || log "reusing ${b/#"$HOME"/\~}: $(head -n 1 "$b.info" 2>/dev/null || echo 'no build info')"
      echo "$b"
      return
    fi
  done
  command -v go >/dev/null 2>&1 || die "Go is needed to build Jaeger (or set JAEGER_BIN to a Jaeger v2 binary)"

  local err why
  if DOWNLOAD_JSON="$(go_download "$PINNED_COMMIT" 2>"$BUILD_LOG")"; then
    build "$(json_field "$DOWNLOAD_JSON" Dir)" "$PINNED_BIN" "$(json_field "$DOWNLOAD_JSON" Version)" \
      "the pinned commit $PINNED_COMMIT"
    echo "$PINNED_BIN"
    return
  fi
  err="$(json_field "$DOWNLOAD_JSON" Error)"
  [[ -n "$err" ]] || err="$(tail -n 5 "$BUILD_LOG")"
  log "the Go module proxy ($(go env GOPROXY)) does not serve the pinned commit $PINNED_COMMIT (Jaeger $PINNED_RELEASE):"
  err="$(sed 's/\\[nt]/ /g' <<<"$err")"
  log "  $err"
  log "falling back to $MODULE@$FALLBACK_VERSION, the newest module version this proxy serves that contains the Jaeger v2 binary"
  why="fallback: the proxy refused the pinned commit $PINNED_COMMIT (Jaeger $PINNED_RELEASE): $err"
  if ! DOWNLOAD_JSON="$(go_download "$FALLBACK_VERSION" 2>"$BUILD_LOG")"; then
    err="$(json_field "$DOWNLOAD_JSON" Error)"
    die "cannot download $MODULE@$FALLBACK_VERSION either: ${err:-$(tail -n 5 "$BUILD_LOG")}. Jaeger cannot be built on this machine; set JAEGER_BIN to a Jaeger v2 binary."
  fi
  build "$(json_field "$DOWNLOAD_JSON" Dir)" "$FALLBACK_BIN" "$FALLBACK_VERSION" "$why"
  echo "$FALLBACK_BIN"
}

# ---------------------------------------------------------------------------------------------
# start / stop

# The PID in the PID file, if that process is alive and is a Jaeger started with our config.
running_pid() {
  pid_from_file "$PID_FILE" "--config=file:$CONFIG"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

healthy() {
  http_ok "http://$HOST:$HEALTH_PORT/status" && http_ok "http://$HOST:$QUERY_HTTP_PORT/api/services"
}

who_listens() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed 's/^/    /' || true
}

start() {
  local bin pid port busy=()
  command -v curl >/dev/null 2>&1 || die "curl is needed to check that Jaeger answers"
  if pid="$(running_pid)"; then
    if healthy; then
      log "already running (pid $pid), OTLP/HTTP http://$HOST:$OTLP_HTTP_PORT, query http://$HOST:$QUERY_HTTP_PORT"
      return
    fi
    log "a Jaeger started by this script (pid $pid) is running but not answering; restarting it"
    stop
  fi
  rm -f "$PID_FILE"
  for port in "$OTLP_HTTP_PORT" "$QUERY_HTTP_PORT" "$QUERY_GRPC_PORT" "$HEALTH_PORT"; do
    port_open "$port" && busy+=("$port")
  done
  if ((${#busy[@]})); then
    log "error: cannot start Jaeger: port(s) ${busy[*]} on $HOST are already taken by something this script did not start:"
    for port in "${busy[@]}"; do who_listens "$port" >&2; done
    die "stop that process first, then run this again (a tooltrail test Jaeger from another checkout: bash scripts/jaeger.sh stop-stale)"
  fi
  bin="$(QUIET_REUSE=1 ensure)"
  mkdir -p "$CACHE_DIR"
  log "starting $bin (log: $LOG_FILE)"
  # A fresh log per start (the previous one is kept as jaeger.log.prev).
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) $bin --config=file:$CONFIG" >"$LOG_FILE"
  # Every stream to the log: it outlives this script and does not hold the caller's pipes open.
  "$bin" "--config=file:$CONFIG" </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until healthy; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      log "Jaeger exited during start-up; the end of $LOG_FILE:"
      tail -n 25 "$LOG_FILE" >&2
      die "Jaeger did not start"
    fi
    if ((SECONDS >= deadline)); then
      log "Jaeger did not answer on http://$HOST:$HEALTH_PORT/status and http://$HOST:$QUERY_HTTP_PORT/api/services within ${START_TIMEOUT_S}s; the end of $LOG_FILE:"
      tail -n 25 "$LOG_FILE" >&2
      stop || true
      die "Jaeger did not start"
    fi
    sleep 0.2
  done
  log "running (pid $pid): OTLP/HTTP http://$HOST:$OTLP_HTTP_PORT, query API and UI http://$HOST:$QUERY_HTTP_PORT, health http://$HOST:$HEALTH_PORT/status"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    [[ -f "$PID_FILE" ]] && log "stale PID file (process gone or not our Jaeger); removing it"
    rm -f "$PID_FILE"
    log "not running"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "pid $pid did not exit within 20s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
  done
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

# stop-stale: stop ours, then any *tooltrail test Jaeger* (a .cache/[tooltrail/]jaeger/jaeger-* binary run
# with a scripts/jaeger/config.yaml) still holding our ports, e.g. left by an earlier CI run in
# another clone. Any other process on those ports is left alone (and `start` will refuse).
stop_stale() {
  stop
  local port pid cmd
  for port in "$OTLP_HTTP_PORT" "$QUERY_HTTP_PORT" "$QUERY_GRPC_PORT" "$HEALTH_PORT"; do
    for pid in $(ss -Hltnp "sport = :$port" 2>/dev/null | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u); do
      alive "$pid" || continue
      cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
      if [[ "$cmd" =~ /\.cache/jaeger/jaeger-[^\ ]*\ --config=file:[^\ ]*/scripts/jaeger/config\.yaml ]]; then
        log "stopping a stale tooltrail test Jaeger on port $port (pid $pid): $cmd"
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 20))
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
      fi
    done
  done
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if healthy; then echo "running (pid $pid)"; else echo "running (pid $pid) but not answering"; fi
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  ensure) ensure ;;
  start) start ;;
  stop) stop ;;
  stop-stale) stop_stale ;;
  status) status ;;
  *)
    echo "usage: $0 ensure|start|stop|stop-stale|status" >&2
    exit 2
    ;;
esac
