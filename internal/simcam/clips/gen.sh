#!/bin/sh
# Regenerates the embedded test clips: 4 s of ffmpeg's testsrc2 at 640x360, 25 fps, one closed
# GOP per second (IDR every 25 frames, no B-frames), with access unit delimiters and the parameter
# sets repeated before every IDR, as IP cameras send them. Needs Debian's ffmpeg (libx264, libx265).
# Run from this directory: sh gen.sh   (or: go generate ./internal/simcam)
set -eu
common="-hide_banner -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25:duration=4 -pix_fmt yuv420p -an"
ffmpeg $common -c:v libx264 -preset veryfast -profile:v main -bf 0 -g 25 -keyint_min 25 -sc_threshold 0 \
	-b:v 500k -maxrate 500k -bufsize 500k -x264-params aud=1:repeat-headers=1:open-gop=0 \
	-f h264 testsrc2.h264
ffmpeg $common -c:v libx265 -preset veryfast -b:v 500k -maxrate 500k -bufsize 500k \
	-x265-params keyint=25:min-keyint=25:scenecut=0:bframes=0:aud=1:repeat-headers=1:open-gop=0:log-level=error \
	-f hevc testsrc2.h265
