#!/usr/bin/env bash
# Runs a command with CIVICAM_TEST_POSTGRES pointing at a throw-away PostgreSQL 15 cluster made for
# this run (unix socket only, no TCP), and removes the cluster afterwards. When the variable is
# already set, the command runs against that database instead.
set -euo pipefail
if [ -n "${CIVICAM_TEST_POSTGRES:-}" ]; then exec "$@"; fi
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/initdb" ]; then
	echo "with-postgres: $bin/initdb not found; run scripts/install-deps.sh" >&2
	exit 1
fi
dir=$(mktemp -d /tmp/civicam-pg.XXXXXX)
chmod 755 "$dir"
port=$((20000 + RANDOM % 20000))
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# fsync stays on: the trail's durability tests measure real commits.
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses='' -c max_connections=300" start >/dev/null ||
	{ cat "$dir/server.log" >&2; exit 1; }
cleanup() {
	as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
export CIVICAM_TEST_POSTGRES="host=$dir port=$port user=postgres dbname=postgres sslmode=disable"
echo "with-postgres: PostgreSQL 15 on $dir port $port" >&2
"$@"
