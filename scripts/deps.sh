#!/usr/bin/env bash
# Installs what govlisten's tests and `make up` need and the machine lacks:
# Debian's clickhouse-server and clickhouse-client packages; zookeeper (for
# the replicated-schema tests, internal/zklocal); systemd (systemd-analyze
# verifies the units in deploy/); and chromium for the dashboard's browser
# test. NATS needs nothing: it runs in-process. Safe to run again: it
# installs only what is missing, and says so.
set -euo pipefail

# With --test (make test) it also installs what only the tests use:
# ZooKeeper, systemd-analyze, nats-server and Chromium. Without it (make up, make bench)
# only ClickHouse.
tests=false
if [ "${1:-}" = "--test" ]; then
  tests=true
fi

have_clickhouse() {
  command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || [ -x /usr/bin/clickhouse ]
}

# internal/zklocal runs Debian's ZooKeeper jar with java.
have_zookeeper() {
  command -v java >/dev/null 2>&1 && [ -f /usr/share/java/zookeeper.jar ]
}

have_systemd_analyze() {
  command -v systemd-analyze >/dev/null 2>&1
}

# The chaos suite (cmd/govlisten/chaos_test.go) kills a separate NATS server.
have_nats_server() {
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ]
}

# The browser test (dashboard/browser_test.go) drives /usr/bin/chromium.
have_chromium() {
  [ -x /usr/bin/chromium ]
}

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is missing; install Go 1.26 or later from https://go.dev/dl/ and run this again" >&2
  exit 1
fi

missing=()
what=()
if ! have_clickhouse; then
  missing+=(clickhouse-server clickhouse-client)
  what+=(ClickHouse)
fi
if $tests && ! have_zookeeper; then
  missing+=(zookeeper)
  what+=(ZooKeeper)
fi
if $tests && ! have_systemd_analyze; then
  missing+=(systemd)
  what+=(systemd-analyze)
fi
if $tests && ! have_nats_server; then
  missing+=(nats-server)
  what+=(nats-server)
fi
if $tests && ! have_chromium; then
  missing+=(chromium)
  what+=(Chromium)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
deps: ${what[*]} missing and this is not a Debian or Ubuntu machine.
      Install clickhouse-server (any release from 18.16 on) with your system's
      package manager or from clickhouse.com, so that \`clickhouse-server\` is on
      PATH, or point GOVLISTEN_CLICKHOUSE_SERVER at the binary; ZooKeeper at
      /usr/share/java/zookeeper.jar with java; systemd-analyze; and Chromium at
      /usr/bin/chromium for the dashboard's browser test; then run this again.
MSG
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "deps: ${what[*]} missing; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "deps: ${what[*]} missing; installing Debian's ${missing[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
# The package may start a system server where systemd runs; govlisten's
# tests and `up` start their own on free ports and do not need it.
have_clickhouse && echo "deps: ClickHouse: $(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)"
have_zookeeper && echo "deps: ZooKeeper: /usr/share/java/zookeeper.jar"
have_systemd_analyze && echo "deps: systemd-analyze: $(command -v systemd-analyze)"
have_chromium && echo "deps: Chromium: /usr/bin/chromium"
