#!/usr/bin/env bash
# The GB/T 28181 registration benchmark of issue 14: N simulated devices (default 500) register
# with digest over UDP and keep alive every KEEPALIVE; it reports the server's CPU and memory,
# and the time until every device is registered and its catalog stored.
# Usage: scripts/gb28181-bench.sh [N] [KEEPALIVE] [STEADY_SECONDS]
set -euo pipefail
n=${1:-500}
keepalive=${2:-5s}
steady=${3:-60}
dir=$(mktemp -d)
trap 'kill $sim $srv 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/civicam" .
sip=127.0.0.1:$((20000 + RANDOM % 10000))
http=127.0.0.1:$((30000 + RANDOM % 10000))
CIVICAM_DATA=$dir/data CIVICAM_LISTEN=$http CIVICAM_GB28181_LISTEN=$sip CIVICAM_GB28181_PASSWORD=bench \
	"$dir/civicam" serve >"$dir/serve.log" 2>&1 &
srv=$!
until grep -q "gb28181 platform" "$dir/serve.log"; do sleep 0.1; done
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$srv/stat"; }
c0=$(cpu)
t0=$(date +%s.%N)
CIVICAM_GB28181_PASSWORD=bench "$dir/civicam" simcam --gb28181 "sip:43020000002000000001@$sip" --count "$n" \
	--keepalive "$keepalive" >"$dir/sim.log" 2>&1 &
sim=$!
until [ "$(grep -c 'gb28181 catalog' "$dir/serve.log")" -ge "$n" ]; do
	sleep 0.05
	if (($(echo "$(date +%s.%N) - $t0 > 300" | bc))); then echo "timed out" >&2; exit 1; fi
done
t1=$(date +%s.%N)
c1=$(cpu)
sleep "$steady"
c2=$(cpu)
registered=$(grep -c 'gb28181 device registered' "$dir/serve.log")
offline=$(grep -c 'gb28181 device offline' "$dir/serve.log" || true)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$srv/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$srv/status")
printf 'devices                            %d (registered %d, went offline %d)\n' "$n" "$registered" "$offline"
printf 'time until all online + catalogs   %.2f s\n' "$(echo "$t1 - $t0" | bc)"
printf 'server CPU while registering       %.2f s\n' "$(echo "($c1 - $c0) / $ticks" | bc -l)"
printf 'server CPU, %ss of keepalives (%s) %.2f s (%.1f%% of a core)\n' "$steady" "$keepalive" \
	"$(echo "($c2 - $c1) / $ticks" | bc -l)" "$(echo "100 * ($c2 - $c1) / $ticks / $steady" | bc -l)"
printf 'server memory                      RSS %d MiB, peak %d MiB\n' $((rss / 1024)) $((hwm / 1024))
