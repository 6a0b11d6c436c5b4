#!/usr/bin/env bash
# The project's own installer and starter for the services the tests use:
# PostgreSQL with PostGIS and the Mosquitto MQTT broker, from Debian packages, on 127.0.0.1 only.
#   bash scripts/services.sh start   install if missing, start, create the test database
#   bash scripts/services.sh stop    stop both
#   bash scripts/services.sh status
# Ports: PostgreSQL 55432, Mosquitto 18830 (so a system-wide server on the default ports is left alone).
# Connection strings are written to scripts/services.env for `make test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PG_PORT="${LIFELINE_PG_PORT:-55432}"
MQTT_PORT="${LIFELINE_MQTT_PORT:-18830}"
STATE="${LIFELINE_SERVICES_DIR:-/var/tmp/lifeline-services}"
PGDIR="$STATE/pg"
PGDATA="$PGDIR/data"
MQDIR="$STATE/mqtt"

need_root() { if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; }

install_packages() {
  need_root
  local missing=()
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing+=(postgresql-15-postgis-3)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "services: installing ${missing[*]} from Debian packages"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_pg() {
  local bin; bin="$(pg_bin)"
  mkdir -p "$PGDIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDIR"; fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PGDIR/postgres.log" -w \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGDIR -c fsync=off" start >/dev/null
  fi
  for db in lifeline_test lifeline; do
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "create database $db" >/dev/null
    fi
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -qc "create extension if not exists postgis" >/dev/null
  done
  echo "services: PostgreSQL+PostGIS on 127.0.0.1:$PG_PORT"
}

start_mqtt() {
  mkdir -p "$MQDIR"
  if [ "$(id -u)" -eq 0 ]; then chown mosquitto:mosquitto "$MQDIR" 2>/dev/null || true; fi
  cat >"$MQDIR/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $MQDIR/
max_queued_messages 1000000
CONF
  if ! pgrep -f "mosquitto -c $MQDIR/mosquitto.conf" >/dev/null 2>&1; then
    local mq; mq="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
    nohup "$mq" -c "$MQDIR/mosquitto.conf" >"$MQDIR/mosquitto.log" 2>&1 &
    for _ in $(seq 1 50); do
      (echo >/dev/tcp/127.0.0.1/"$MQTT_PORT") 2>/dev/null && break
      sleep 0.1
    done
  fi
  echo "services: Mosquitto on 127.0.0.1:$MQTT_PORT"
}

write_env() {
  cat >"$here/services.env" <<ENV
LIFELINE_TEST_PG=postgresql://postgres@127.0.0.1:$PG_PORT/lifeline_test
LIFELINE_TEST_MQTT=mqtt://127.0.0.1:$MQTT_PORT
ENV
}

case "${1:-start}" in
  start) install_packages; start_pg; start_mqtt; write_env ;;
  stop)
    as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" stop -m fast >/dev/null 2>&1 || true
    pkill -f "mosquitto -c $MQDIR/mosquitto.conf" || true ;;
  status)
    as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" status || true
    pgrep -af "mosquitto -c $MQDIR/mosquitto.conf" || echo "mosquitto: not running" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
