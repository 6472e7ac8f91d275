#!/usr/bin/env bash
# A single-node Elasticsearch for tests and development, on 127.0.0.1 only.
#   scripts/elasticsearch.sh start|stop|status
# The integ-test-zip distribution comes from Maven Central (mvn dependency:copy) and is cached in
# ~/.cache/prahari/elasticsearch. Environment: ES_VERSION (8.19.21), ES_PORT (9200), ES_JAVA_HOME
# (default: the system JDK 17; ES 8 needs Java 17 or 21, ES 9 needs 21+), ES_HEAP (512m), ES_FRESH (1: start
# on an empty data directory; the test node does, so test indices never pile up to the node's shard limit).
set -euo pipefail

ES_VERSION="${ES_VERSION:-8.19.21}"
ES_PORT="${ES_PORT:-9200}"
ES_HEAP="${ES_HEAP:-512m}"
# Elasticsearch refuses to run as root: as root (CI), the node runs as the system user prahari-es from
# a cache outside /root.
ES_USER=""
if [ "$(id -u)" = 0 ]; then
  ES_USER=prahari-es
  CACHE="${ES_CACHE:-/var/cache/prahari/elasticsearch}"
else
  CACHE="${ES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prahari/elasticsearch}"
fi
HOME_DIR="$CACHE/elasticsearch-$ES_VERSION"
RUN_DIR="$CACHE/run-$ES_PORT"
PID_FILE="$RUN_DIR/es.pid"
URL="http://127.0.0.1:$ES_PORT"

java_home() {
  if [ -n "${ES_JAVA_HOME:-}" ]; then echo "$ES_JAVA_HOME"; return; fi
  for candidate in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    if [ -x "$candidate/bin/java" ]; then echo "$candidate"; return; fi
  done
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

fetch() {
  [ -x "$HOME_DIR/bin/elasticsearch" ] && return
  mkdir -p "$CACHE"
  echo "elasticsearch: fetching $ES_VERSION from Maven Central" >&2
  mvn -q dependency:copy "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
      "-DoutputDirectory=$CACHE" >&2
  (cd "$CACHE" && unzip -q -o "elasticsearch-$ES_VERSION.zip" && rm -f "elasticsearch-$ES_VERSION.zip")
}

healthy() {
  curl -fsS --max-time 2 "$URL/_cluster/health" 2>/dev/null | grep -Eq '"status":"(green|yellow)"'
}

start() {
  if healthy; then echo "elasticsearch: already running at $URL"; return; fi
  fetch
  if [ "${ES_FRESH:-0}" = 1 ]; then rm -rf "$RUN_DIR/data"; fi
  mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs"
  local as_user=()
  if [ -n "$ES_USER" ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chown -R "$ES_USER" "$CACHE"
    as_user=(runuser -u "$ES_USER" --)
  fi
  "${as_user[@]}" env ES_JAVA_HOME="$(java_home)" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
    "$HOME_DIR/bin/elasticsearch" -d -p "$PID_FILE" \
      -E discovery.type=single-node -E network.host=127.0.0.1 -E http.port="$ES_PORT" \
      -E transport.port=0 -E xpack.security.enabled=false -E xpack.ml.enabled=false \
      -E cluster.routing.allocation.disk.threshold_enabled=false -E action.destructive_requires_name=false \
      -E path.data="$RUN_DIR/data" -E path.logs="$RUN_DIR/logs" -E cluster.name=prahari-test \
      > "$RUN_DIR/start.log" 2>&1 || { cat "$RUN_DIR/start.log" >&2; exit 1; }
  for _ in $(seq 1 120); do
    if healthy; then echo "elasticsearch: running at $URL (pid $(cat "$PID_FILE"))"; return; fi
    sleep 1
  done
  echo "elasticsearch: did not become healthy in 120 s; see $RUN_DIR/logs" >&2
  stop
  exit 1
}

stop() {
  if [ -f "$PID_FILE" ]; then
    pid="$(cat "$PID_FILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    echo "elasticsearch: stopped"
  else
    echo "elasticsearch: not running (no $PID_FILE)"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if healthy; then echo "elasticsearch: running at $URL"; else echo "elasticsearch: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
