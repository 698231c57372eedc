#!/usr/bin/env bash
# Runs a command with CIVICAM_TEST_S3 pointing at a throw-away S3 server, versitygw v1.8.0 on
# loopback (http://ACCESS:SECRET@127.0.0.1:PORT, buckets with versioning and Object Lock), and
# CIVICAM_TEST_S3_BIN at its binary, with which tests start servers of their own to stop and
# restart. The binary is built once into a cache directory (about 3 minutes cold). When
# CIVICAM_TEST_S3 is already set, the command runs against that server instead.
set -euo pipefail
if [ -n "${CIVICAM_TEST_S3:-}" ]; then exec "$@"; fi
cache=${CIVICAM_S3_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/civicam-s3}
bin=$cache/bin/versitygw
if [ ! -x "$bin" ]; then
	echo "with-s3: building versitygw v1.8.0 into $cache/bin" >&2
	mkdir -p "$cache/bin"
	(cd "$cache" && GOBIN=$cache/bin GOFLAGS= go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)
fi
dir=$(mktemp -d /tmp/civicam-s3.XXXXXX)
mkdir -p "$dir/data" "$dir/versions"
access=civicam$RANDOM
secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
for try in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	"$bin" --access "$access" --secret "$secret" --port "127.0.0.1:$port" --quiet --keep-alive \
		posix --versioning-dir "$dir/versions" "$dir/data" >"$dir/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break 2; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
done
if [ -z "${pid:-}" ]; then cat "$dir/server.log" >&2; rm -rf "$dir"; exit 1; fi
cleanup() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
export CIVICAM_TEST_S3="http://$access:$secret@127.0.0.1:$port"
export CIVICAM_TEST_S3_BIN="$bin"
echo "with-s3: versitygw on 127.0.0.1:$port ($dir)" >&2
"$@"
