#!/usr/bin/env bash
# Installs the Debian packages the tests need (PostgreSQL for the second store dialect, ffmpeg for
# ffprobe checks of recordings, Chromium for the browser tests, Prometheus for promtool's check of
# /metrics, GStreamer's RTSP server for an independent B-frame camera, a TrueType CJK font for the
# result notice PDF and poppler's pdftotext to read it back). Does nothing when all are there.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# fpdf embeds TrueType only: Debian's Noto CJK is OpenType/TTC, Droid Sans Fallback is a .ttf.
[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || need+=(fonts-droid-fallback)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
# GStreamer's RTSP server with x264 (B-frames), an independent camera for the recorder's tests.
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer" >/dev/null 2>&1 &&
	[ -e /usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstx264.so ] ||
	need+=(python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing ${need[*]}; run as root or install them: apt-get install ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
