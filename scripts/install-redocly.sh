#!/usr/bin/env bash
# Installs Redocly's CLI (the OpenAPI linter the API document is checked with) from the npm
# registry into a cache directory, once, and prints the path of its command. 2.77.0 is the
# version known to install on Node.js 20.
set -euo pipefail
version=2.77.0
dir="${XDG_CACHE_HOME:-$HOME/.cache}/civicam/redocly-$version"
bin="$dir/node_modules/.bin/redocly"
if [ ! -x "$bin" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		if [ "$(id -u)" != 0 ]; then
			echo "install-redocly: npm is missing; install Node.js and npm (apt-get install nodejs npm)" >&2
			exit 1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >&2
	fi
	mkdir -p "$dir"
	npm install --no-audit --no-fund --silent --prefix "$dir" "@redocly/cli@$version" >&2
fi
echo "$bin"
