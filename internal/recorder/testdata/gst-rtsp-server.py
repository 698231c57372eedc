#!/usr/bin/python3
"""An independent RTSP server for the recorder's tests: GStreamer's gst-rtsp-server serving a
live test pattern encoded by x264 with B-frames, as many IP cameras and NVRs send it.

usage: gst-rtsp-server.py PORT [GOP_FRAMES] [BFRAMES]
Serves rtsp://127.0.0.1:PORT/test and prints "ready" once it listens.
Needs Debian's python3-gst-1.0, gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-ugly.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port = sys.argv[1]
gop = int(sys.argv[2]) if len(sys.argv) > 2 else 25
bframes = int(sys.argv[3]) if len(sys.argv) > 3 else 2

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=25/1 "
    f"! x264enc speed-preset=veryfast bitrate=800 key-int-max={gop} "
    f"bframes={bframes} b-adapt=false byte-stream=true "
    "! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)
factory.set_shared(True)
server.get_mount_points().add_factory("/test", factory)
if server.attach(None) == 0:
    sys.exit("cannot listen on port " + port)
print("ready", flush=True)
GLib.MainLoop().run()
