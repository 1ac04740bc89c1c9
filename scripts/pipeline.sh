#!/usr/bin/env bash
# The production pipeline on one machine, for tooltrail's pipeline suite, its benchmark and for
# trying the deploy/ configs (see docs/production.md):
#
#   agents --OTLP/HTTP--> collector (Jaeger v2: otlp -> kafka, acks all, no queue, no batch)
#          --> Kafka 4.x, KRaft, three nodes (replication 3, min.insync.replicas 2)
#          --> ingester (Jaeger v2: kafka -> Badger with synchronous writes, offsets marked after
#              the write) --> Jaeger query API
#
#   scripts/pipeline.sh ensure            fetch/build what it runs (Jaeger binary, Kafka jars); prints paths
#   scripts/pipeline.sh start [piece...]  start every piece (or the ones named) and wait until each answers
#   scripts/pipeline.sh stop [piece...]   stop them (SIGTERM, SIGKILL after 20 s), by PID
#   scripts/pipeline.sh kill <piece...>   SIGKILL them at once (the suite's crash tests)
#   scripts/pipeline.sh status            one line per piece; exit 1 unless all of the pipeline answers
#   scripts/pipeline.sh reset             stop everything and delete the data (Kafka logs, Badger)
#   scripts/pipeline.sh stop-stale        also stop a tooltrail pipeline another checkout left on
#                                         these ports; never touches any other process
#   scripts/pipeline.sh topic             (re)create the topic (start does this)
#
# Pieces: kafka-1 kafka-2 kafka-3 ingester collector (the pipeline, in start order), and direct:
# a single Jaeger with the same Badger settings taking OTLP itself, for the benchmark's
# comparison (not part of the pipeline; started only when named).
#
# Everything listens on 127.0.0.1 only, on ports that do not clash with scripts/jaeger.sh's test
# Jaeger (4318, 16686, 16685, 13133), so both suites can run one after the other:
#   collector  OTLP/HTTP 24318, health 24133
#   kafka-N    clients 2909{2,3,4}, controllers 2919{2,3,4}
#   ingester   query API 26686, query gRPC 26685, health 26133
#   direct     OTLP/HTTP 25318, query API 25686, query gRPC 25685, health 25133
#
# What is fetched, and where it is kept (outside the checkout: CI runs in a fresh clone):
#   - the Jaeger v2 binary: scripts/jaeger.sh ensure ($HOME/.cache/tooltrail/jaeger; JAEGER_BIN
#     overrides). It contains the Kafka exporter and receiver and Badger.
#   - Kafka $KAFKA_VERSION: jars from Maven Central through `mvn` (cached in ~/.m2), copied into
#     one classpath folder, $HOME/.cache/tooltrail/kafka/<version>/lib (KAFKA_CACHE moves it).
#     Needs Java 17+ and Maven.
# Run state (PID files, logs, data) is in .cache/pipeline (PIPELINE_STATE_DIR moves it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/process.sh
source "$ROOT/scripts/lib/process.sh"
STATE="${PIPELINE_STATE_DIR:-$ROOT/.cache/pipeline}"
RUN_DIR="$STATE/run"   # PID files
LOG_DIR="$STATE/logs"
DATA_DIR="$STATE/data" # Kafka logs, Badger; `reset` deletes it
DEPLOY="$ROOT/deploy"

KAFKA_VERSION=4.4.0
KAFKA_HOME_CACHE="${KAFKA_CACHE:-$HOME/.cache/tooltrail/kafka}/$KAFKA_VERSION"
KAFKA_LIB="$KAFKA_HOME_CACHE/lib"
KAFKA_POM="$ROOT/scripts/pipeline/kafka-deps.pom.xml"
# Small heaps: three nodes and two Jaegers share a 2-core, 24 GiB machine with the agents.
KAFKA_HEAP="${PIPELINE_KAFKA_HEAP:--Xms256m -Xmx256m}"
TOPIC="${KAFKA_TOPIC:-tooltrail-spans}"
PARTITIONS="${PIPELINE_PARTITIONS:-6}"

HOST=127.0.0.1
START_TIMEOUT_S="${PIPELINE_START_TIMEOUT:-120}"
STOP_TIMEOUT_S=20

PIPELINE_PIECES=(kafka-1 kafka-2 kafka-3 ingester collector)
ALL_PIECES=("${PIPELINE_PIECES[@]}" direct)

log() { echo "pipeline.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# what each piece is

kafka_node() { echo "${1#kafka-}"; }

ports_of() {
  case "$1" in
    collector) echo 24318 24133 ;;
    ingester) echo 26686 26685 26133 ;;
    direct) echo 25318 25686 25685 25133 ;;
    kafka-[123]) echo "$((29091 + $(kafka_node "$1")))" "$((29191 + $(kafka_node "$1")))" ;;
    *) die "unknown piece '$1' (pieces: ${ALL_PIECES[*]})" ;;
  esac
}

config_of() {
  case "$1" in
    collector) echo "$DEPLOY/collector.yaml" ;;
    ingester) echo "$DEPLOY/ingester.yaml" ;;
    direct) echo "$ROOT/scripts/pipeline/direct.yaml" ;;
    kafka-[123]) echo "$DATA_DIR/$1/server.properties" ;;
  esac
}

# The Jaeger pieces' Kafka clients: Sarama, not franz-go (each binary's default since contrib v0.129).
# franz-go's idempotent producer, after two brokers die at once, answered the collector that a
# record was written when no broker had it (after an out-of-order answer, while it renumbered
# its batches), and the Kafka receiver on franz-go drops a whole poll when it carries a
# group-session error, records fetched after the rejoin included. deploy/README.md, "Kafka clients".
gates_of() {
  case "$1" in
    collector) echo "--feature-gates=-exporter.kafkaexporter.UseFranzGo" ;;
    ingester) echo "--feature-gates=-receiver.kafkareceiver.UseFranzGo" ;;
  esac
}

bootstrap_servers() { echo "$HOST:29092,$HOST:29093,$HOST:29094"; }

# ---------------------------------------------------------------------------------------------
# ensure

ensure_jaeger() {
  QUIET_REUSE="${QUIET_REUSE:-}" bash "$ROOT/scripts/jaeger.sh" ensure
}

ensure_kafka() {
  command -v java >/dev/null 2>&1 || die "Java 17+ is needed to run Kafka (apt-get install openjdk-17-jre-headless)"
  if [[ -f "$KAFKA_LIB/.complete" ]]; then
    [[ -n "${QUIET_REUSE:-}" ]] || log "reusing Kafka $KAFKA_VERSION jars in ${KAFKA_LIB/#"$HOME"/\~}"
    echo "$KAFKA_LIB"
    return
  fi
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch Kafka's jars (apt-get install maven)"
  mkdir -p "$KAFKA_HOME_CACHE"
  exec 8>"$KAFKA_HOME_CACHE/.lock"
  flock 8
  if [[ -f "$KAFKA_LIB/.complete" ]]; then
    echo "$KAFKA_LIB"
    return
  fi
  local tmp="$KAFKA_HOME_CACHE/lib.partial.$$" started=$SECONDS mvn_log="$KAFKA_HOME_CACHE/mvn.log"
  log "fetching Kafka $KAFKA_VERSION and its dependencies with Maven (cached in ~/.m2), log in $mvn_log"
  rm -rf "$tmp"
  # shellcheck disable=SC2064
  trap "rm -rf $(printf %q "$tmp")" EXIT
  if ! mvn -B -q -f "$KAFKA_POM" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2
    die "could not fetch Kafka's jars with Maven (see $mvn_log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven finished but $tmp has no kafka_2.13-$KAFKA_VERSION.jar"
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIB"
  mv "$tmp" "$KAFKA_LIB"
  trap - EXIT
  log "Kafka $KAFKA_VERSION: $(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars in ${KAFKA_LIB/#"$HOME"/\~} ($((SECONDS - started))s)"
  echo "$KAFKA_LIB"
}

ensure() {
  local j k
  j="$(ensure_jaeger)"
  k="$(ensure_kafka)"
  echo "jaeger $j"
  echo "kafka $k"
}

# ---------------------------------------------------------------------------------------------
# processes

# The PID of a piece, if it is alive and is that piece (guards against a recycled PID).
running_pid() {
  pid_from_file "$RUN_DIR/$1.pid" "$(config_of "$1")"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

who_listens() { ss -Hltnp "sport = :$1" 2>/dev/null | sed 's/^/    /' || true; }

java_opts() {
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP)
  JAVA_OPTS=("${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
    -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info
    -Dorg.slf4j.simpleLogger.showDateTime=true
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ")
}

# kafka_tool <main class> <args...>: an admin command on the classpath, quiet unless it fails.
kafka_tool() {
  local class="$1"
  shift
  java -Xmx128m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KAFKA_LIB/*" "$class" "$@"
}

cluster_id() {
  local f="$DATA_DIR/cluster.id"
  if [[ ! -s "$f" ]]; then
    mkdir -p "$DATA_DIR"
    # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$f"
  fi
  cat "$f"
}

# The node's properties: deploy/kafka/broker.properties plus its own lines; storage formatted once.
prepare_kafka() {
  local piece="$1" n dir
  n="$(kafka_node "$piece")"
  dir="$DATA_DIR/$piece"
  mkdir -p "$dir"
  {
    echo "# Generated by scripts/pipeline.sh from deploy/kafka/broker.properties: do not edit."
    cat "$DEPLOY/kafka/broker.properties"
    echo
    echo "# --- this node (scripts/pipeline.sh) ---"
    echo "node.id=$n"
    echo "listeners=PLAINTEXT://$HOST:$((29091 + n)),CONTROLLER://$HOST:$((29191 + n))"
    echo "advertised.listeners=PLAINTEXT://$HOST:$((29091 + n))"
    echo "controller.quorum.voters=1@$HOST:29192,2@$HOST:29193,3@$HOST:29194"
    echo "log.dirs=$dir/log"
  } >"$dir/server.properties"
  if [[ ! -f "$dir/log/meta.properties" ]]; then
    # --cluster-id=<id>, not -t <id>: a base64url id starts with `-` one time in 64, and the
    # argument parser then reads it as an option ("expected one argument").
    kafka_tool kafka.tools.StorageTool format "--cluster-id=$(cluster_id)" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      {
        tail -n 20 "$dir/format.log" >&2
        die "could not format $piece's storage"
      }
  fi
}

launch() {
  local piece="$1" pid port busy=() logf="$LOG_DIR/$1.log" cfg
  if pid="$(running_pid "$piece")"; then
    log "$piece already running (pid $pid)"
    return
  fi
  rm -f "$RUN_DIR/$piece.pid"
  for port in $(ports_of "$piece"); do port_open "$port" && busy+=("$port"); done
  if ((${#busy[@]})); then
    log "error: cannot start $piece: port(s) ${busy[*]} on $HOST are taken by something this script did not start:"
    for port in "${busy[@]}"; do who_listens "$port" >&2; done
    die "stop that process first (a tooltrail pipeline from another checkout: bash scripts/pipeline.sh stop-stale)"
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR"
  [[ -f "$logf" ]] && mv -f "$logf" "$logf.prev"
  cfg="$(config_of "$piece")"
  case "$piece" in
    kafka-*)
      prepare_kafka "$piece"
      java_opts
      echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) kafka $KAFKA_VERSION $cfg" >"$logf"
      java "${JAVA_OPTS[@]}" -cp "$KAFKA_LIB/*" kafka.Kafka "$cfg" </dev/null >>"$logf" 2>&1 &
      pid=$!
      ;;
    *)
      local bin
      bin="$(QUIET_REUSE=1 ensure_jaeger)"
      local gates
      gates="$(gates_of "$piece")"
      echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) $bin --config=file:$cfg $gates" >"$logf"
      # shellcheck disable=SC2086 # $gates is empty or one flag
      BADGER_DIR="$DATA_DIR/$piece-badger" "$bin" "--config=file:$cfg" $gates </dev/null >>"$logf" 2>&1 &
      pid=$!
      ;;
  esac
  echo "$pid" >"$RUN_DIR/$piece.pid"
  log "$piece started (pid $pid, log ${logf#"$ROOT"/})"
}

ready() {
  case "$1" in
    kafka-*) grep -q "Kafka Server started" "$LOG_DIR/$1.log" 2>/dev/null && port_open "$(ports_of "$1" | cut -d' ' -f1)" ;;
    collector) http_ok "http://$HOST:24133/status" ;;
    ingester) http_ok "http://$HOST:26133/status" && http_ok "http://$HOST:26686/api/services" ;;
    direct) http_ok "http://$HOST:25133/status" && http_ok "http://$HOST:25686/api/services" ;;
  esac
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT_S)) piece pid pending=("$@") still
  while ((${#pending[@]})); do
    still=()
    for piece in "${pending[@]}"; do
      ready "$piece" && continue
      if ! pid="$(running_pid "$piece")"; then
        log "$piece exited during start-up; the end of $LOG_DIR/$piece.log:"
        tail -n 30 "$LOG_DIR/$piece.log" >&2 || true
        die "$piece did not start"
      fi
      still+=("$piece")
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) || break
    if ((SECONDS >= deadline)); then
      for piece in "${pending[@]}"; do
        log "$piece did not become ready within ${START_TIMEOUT_S}s; the end of $LOG_DIR/$piece.log:"
        tail -n 30 "$LOG_DIR/$piece.log" >&2 || true
      done
      die "${pending[*]} did not start"
    fi
    sleep 0.2
  done
}

# The topic, created on purpose with the settings that keep every record (deploy/README.md).
create_topic() {
  local deadline=$((SECONDS + 60)) out
  while :; do
    if out="$(kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap_servers)" \
      --create --if-not-exists --topic "$TOPIC" --partitions "$PARTITIONS" --replication-factor 3 \
      --config min.insync.replicas=2 --config unclean.leader.election.enable=false \
      --config max.message.bytes=10485760 2>&1)"; then
      break
    fi
    # Right after start-up not every node has registered yet ("larger than available brokers").
    ((SECONDS < deadline)) || {
      echo "$out" | tail -n 10 >&2
      die "could not create topic $TOPIC"
    }
    sleep 1
  done
  log "topic $TOPIC: $PARTITIONS partitions, replication 3, min.insync.replicas 2"
}

start() {
  local pieces=("$@") kafkas=() others=() p
  ((${#pieces[@]})) || pieces=("${PIPELINE_PIECES[@]}")
  command -v curl >/dev/null 2>&1 || die "curl is needed to check that the pieces answer"
  for p in "${pieces[@]}"; do ports_of "$p" >/dev/null; done
  for p in "${pieces[@]}"; do [[ "$p" == kafka-* ]] && kafkas+=("$p") || others+=("$p"); done
  if ((${#kafkas[@]})); then
    QUIET_REUSE=1 ensure_kafka >/dev/null
    # Kafka nodes start together: a node waits for a quorum of controllers.
    for p in "${kafkas[@]}"; do launch "$p"; done
    wait_ready "${kafkas[@]}"
    log "${kafkas[*]} ready"
    # The topic exists once; creating it needs three registered brokers.
    if ((${#kafkas[@]} == 3)) && [[ ! -f "$DATA_DIR/topic.created" ]]; then
      create_topic
      touch "$DATA_DIR/topic.created"
    fi
  fi
  for p in "${others[@]+"${others[@]}"}"; do
    launch "$p"
    wait_ready "$p"
    log "$p ready"
  done
}

stop_pids() { # stop_pids <signal> <timeout s> <piece...>
  local sig="$1" timeout="$2" piece pid deadline
  shift 2
  local pids=() names=()
  for piece in "$@"; do
    if pid="$(running_pid "$piece")"; then
      kill "-$sig" "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$piece")
    else
      rm -f "$RUN_DIR/$piece.pid"
    fi
  done
  deadline=$((SECONDS + timeout))
  local i
  for i in "${!pids[@]}"; do
    while alive "${pids[$i]}"; do
      if ((SECONDS >= deadline)); then
        log "${names[$i]} (pid ${pids[$i]}) did not exit within ${timeout}s of SIG$sig; sending SIGKILL"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
        sleep 0.2
        break
      fi
      sleep 0.05
    done
    rm -f "$RUN_DIR/${names[$i]}.pid"
    log "${names[$i]} stopped (pid ${pids[$i]}, SIG$sig)"
  done
}

stop() {
  local pieces=("$@") ordered=() p
  if ((${#pieces[@]} == 0)); then
    pieces=(direct collector ingester kafka-1 kafka-2 kafka-3)
  fi
  for p in "${pieces[@]}"; do ports_of "$p" >/dev/null; done
  # Front to back: nothing is left sending into a stopped piece.
  for p in direct collector ingester; do [[ " ${pieces[*]} " == *" $p "* ]] && ordered+=("$p"); done
  local k=()
  for p in kafka-1 kafka-2 kafka-3; do [[ " ${pieces[*]} " == *" $p "* ]] && k+=("$p"); done
  ((${#ordered[@]})) && stop_pids TERM "$STOP_TIMEOUT_S" "${ordered[@]}"
  # Kafka nodes together. The last nodes of a cluster that is going down cannot complete a
  # controlled shutdown (no controller quorum left) and are killed after 10 s; their logs are
  # recovered at the next start.
  ((${#k[@]})) && stop_pids TERM 10 "${k[@]}"
  return 0
}

kill_pieces() {
  (($#)) || die "kill needs the pieces to kill (${ALL_PIECES[*]})"
  local p
  for p in "$@"; do ports_of "$p" >/dev/null; done
  stop_pids KILL 10 "$@"
}

status() {
  local p pid ok=0
  for p in "${ALL_PIECES[@]}"; do
    if pid="$(running_pid "$p")"; then
      if ready "$p"; then echo "$p: running (pid $pid)"; else
        echo "$p: running (pid $pid) but not answering"
        [[ "$p" == direct ]] || ok=1
      fi
    else
      echo "$p: not running"
      [[ "$p" == direct ]] || ok=1
    fi
  done
  return "$ok"
}

reset() {
  stop "${ALL_PIECES[@]}"
  rm -rf "$DATA_DIR"
  log "data deleted ($DATA_DIR)"
}

# Processes holding our ports that are a tooltrail pipeline of another checkout (same binaries,
# a deploy/ or scripts/pipeline/ config, or a .cache/pipeline Kafka node). Others are left alone.
stop_stale() {
  stop "${ALL_PIECES[@]}"
  local p port pid cmd
  for p in "${ALL_PIECES[@]}"; do
    for port in $(ports_of "$p"); do
      for pid in $(ss -Hltnp "sport = :$port" 2>/dev/null | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u); do
        alive "$pid" || continue
        cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
        if [[ "$cmd" =~ --config=file:[^\ ]*/(deploy/(collector|ingester)\.yaml|scripts/pipeline/direct\.yaml) ||
          "$cmd" =~ kafka\.Kafka\ [^\ ]*/\.cache/pipeline/data/kafka-[123]/server\.properties ]]; then
          log "stopping a stale tooltrail pipeline piece on port $port (pid $pid): ${cmd:0:160}"
          kill -TERM "$pid" 2>/dev/null || true
          local deadline=$((SECONDS + STOP_TIMEOUT_S))
          while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
          alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
        fi
      done
    done
  done
}

cmd="${1:-}"
(($#)) && shift
case "$cmd" in
  ensure) ensure ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  kill) kill_pieces "$@" ;;
  status) status ;;
  reset) reset ;;
  stop-stale) stop_stale ;;
  topic)
    QUIET_REUSE=1 ensure_kafka >/dev/null
    create_topic
    ;;
  *)
    echo "usage: $0 ensure|start [piece...]|stop [piece...]|kill <piece...>|status|reset|stop-stale|topic" >&2
    echo "pieces: ${ALL_PIECES[*]}" >&2
    exit 2
    ;;
esac
