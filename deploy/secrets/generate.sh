#!/bin/sh
# Makes the secret files deploy/compose.yaml reads, once: random passwords
# for ClickHouse's processor and analyst users, NATS and the Grafana admin,
# and empty slots for the platform API tokens. Files are 0600 and never
# committed (deploy/secrets/.gitignore). Run again: existing files are kept.
#
#   deploy/secrets/generate.sh            # in deploy/secrets
#   deploy/secrets/generate.sh DIR        # elsewhere
#
# Then put the API tokens into collector.env (empty ones mean that
# platform's sources fail with "no token"), and `docker compose up -d`.
set -eu
dir=${1:-$(dirname "$0")}
umask 077
mkdir -p "$dir"

rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

write() { # FILE, then the lines
  f="$dir/$1"; shift
  if [ -e "$f" ]; then echo "keeping $f"; return; fi
  printf '%s\n' "$@" > "$f"
  chmod 600 "$f"
  echo "wrote $f"
}

ch=$(rand); analyst=$(rand); nats=$(rand)
[ -e "$dir/clickhouse.env" ] && ch=$(sed -n 's/^GOVLISTEN_CLICKHOUSE_PASSWORD=//p' "$dir/clickhouse.env")
[ -e "$dir/clickhouse.env" ] && analyst=$(sed -n 's/^GOVLISTEN_CLICKHOUSE_ANALYST_PASSWORD=//p' "$dir/clickhouse.env")
[ -e "$dir/nats.env" ] && nats=$(sed -n 's/^GOVLISTEN_NATS_PASSWORD=//p' "$dir/nats.env")

# The ClickHouse server: both users' passwords (users.xml from_env).
write clickhouse.env "GOVLISTEN_CLICKHOUSE_PASSWORD=$ch" "GOVLISTEN_CLICKHOUSE_ANALYST_PASSWORD=$analyst"
# The NATS server and every govlisten process.
write nats.env "GOVLISTEN_NATS_PASSWORD=$nats"
# Every govlisten process: ClickHouse as processor.
write govlisten.env "GOVLISTEN_CLICKHOUSE_PASSWORD=$ch"
# The collector only: the platforms' tokens.
write collector.env "GOVLISTEN_TWITTER_BEARER_TOKEN=" "GOVLISTEN_YOUTUBE_API_KEY=" "GOVLISTEN_FACEBOOK_ACCESS_TOKEN="
# Grafana: its admin and the analyst's password for the data source.
write grafana.env "GF_SECURITY_ADMIN_PASSWORD=$(rand)" "GOVLISTEN_CLICKHOUSE_ANALYST_PASSWORD=$analyst"
