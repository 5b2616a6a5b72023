#!/usr/bin/env bash
# Installs what govlisten's tests and `make up` need and the machine lacks:
# Debian's clickhouse-server and clickhouse-client packages. NATS needs
# nothing: it runs in-process. Safe to run again: it installs only what is
# missing, and says so.
set -euo pipefail

have_clickhouse() {
  command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || [ -x /usr/bin/clickhouse ]
}

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is missing; install Go 1.26 or later from https://go.dev/dl/ and run this again" >&2
  exit 1
fi

if have_clickhouse; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<'MSG'
deps: ClickHouse is missing and this is not a Debian or Ubuntu machine.
      Install clickhouse-server (any release from 18.16 on) with your system's
      package manager or from clickhouse.com, so that `clickhouse-server` is on
      PATH, or point GOVLISTEN_CLICKHOUSE_SERVER at the binary; then run this again.
MSG
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "deps: ClickHouse is missing; run as root: apt-get install -y clickhouse-server clickhouse-client" >&2
    exit 1
  fi
fi

echo "deps: ClickHouse is missing; installing Debian's clickhouse-server and clickhouse-client (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
# The package may start a system server where systemd runs; govlisten's
# tests and `up` start their own on free ports and do not need it.
have_clickhouse && echo "deps: ClickHouse installed: $(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)"
