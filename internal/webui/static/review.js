// Review by time: a timeline of recordings that zooms (1 h … 7 d) and drags, a click that plays
// from that moment, players that show the local wall-clock time of what they play (across the
// gaps the MP4 leaves out), and up to four cameras kept in sync on one clock.
//
// Every range is played inside a viewing (POST /api/v1/viewings): opened once with the purpose,
// traced once; seeks inside its extent are requests with viewing=ID, which the server checks and
// keeps with the viewing. Leaving the extent opens another viewing with the same purpose.
(function () {
  "use strict";
  var T = window.civicamTime;
  var root = document.querySelector("[data-review]");
  if (!root || !root.dataset.review || !T) { return; }
  var cfg = JSON.parse(root.dataset.review);
  var svg = document.getElementById("timeline-svg");
  var playersEl = document.getElementById("players");
  if (!svg || !playersEl) { return; }
  var zone = cfg.zone || "UTC";
  var msg = cfg.msg || {};
  var HOUR = 3600e3, DAY = 24 * HOUR;
  var LEVELS = [HOUR, 6 * HOUR, DAY, 7 * DAY];
  var W = 1000;
  var now = function () { return Date.now(); };
  var boundStart = cfg.bound_start ? T.parse(cfg.bound_start) : -Infinity;
  var boundEnd = cfg.bound_end ? T.parse(cfg.bound_end) : Infinity;
  var view = { start: T.parse(cfg.start), end: T.parse(cfg.end) };
  var errEl = document.getElementById("review-error");

  // What each camera recorded: merged [start, end] ms ranges, and the windows already read.
  var cams = cfg.cameras.map(function (c, i) {
    var rs = (cfg.coverage && cfg.coverage[i] || []).map(function (r) { return [T.parse(r[0]), T.parse(r[1])]; });
    return { id: c.id, name: c.name, ranges: rs, loaded: [[view.start, view.end]] };
  });

  var viewing = null;
  if (cfg.viewing) { setViewing(cfg.viewing); }
  function setViewing(v) {
    viewing = { id: v.id, startISO: v.start, endISO: v.end, start: T.parse(v.start), end: T.parse(v.end),
      cameras: v.camera_ids || v.cameras, purpose: v.purpose };
    root.dataset.viewing = v.id;
  }

  function showError(text) {
    if (!errEl) { return; }
    errEl.textContent = text || "";
    errEl.hidden = !text;
  }

  // ---- the players ----
  var players = Array.prototype.map.call(playersEl.querySelectorAll(".player"), function (el, i) {
    var p = { el: el, cam: el.dataset.camera, i: i, video: el.querySelector("video"), clock: el.querySelector(".wallclock"),
      note: el.querySelector(".gapnote"), spans: null, servedEnd: 0, loading: false, own: 0 };
    if (p.video) { watch(p); }
    return p;
  });
  var syncClock = document.getElementById("sync-clock");
  var state = { clock: NaN, playing: false, last: now() };

  function ensureVideo(p) {
    if (p.video) { return p.video; }
    var v = document.createElement("video");
    v.id = cams.length === 1 ? "playback-video" : "player-video-" + p.i;
    v.className = "playback";
    v.controls = true; v.muted = true; v.playsInline = true; v.preload = "auto";
    p.el.insertBefore(v, p.el.firstChild);
    p.video = v;
    watch(p);
    return v;
  }

  // Events the page did not cause itself are the user's: a seek moves the clock, a pause stops
  // all the players, a play starts them.
  function watch(p) {
    p.video.addEventListener("seeking", function () {
      if (p.own > 0) { return; }
      var w = wallOf(p, p.video.currentTime);
      if (!isNaN(w)) { state.clock = w; draw(); }
    });
    p.video.addEventListener("seeked", function () { if (p.own > 0) { p.own--; } });
    p.video.addEventListener("pause", function () {
      if (p.selfPause) { p.selfPause = false; return; }
      if (!p.video.ended && players.length > 1) { state.playing = false; }
    });
    p.video.addEventListener("play", function () {
      if (p.selfPlay) { p.selfPlay = false; return; }
      state.playing = true;
    });
  }

  function seekTo(p, off) {
    if (Math.abs(p.video.currentTime - off) < 0.05) { return; }
    p.own++;
    p.video.currentTime = off;
  }
  function pausePlayer(p) {
    if (!p.video || p.video.paused) { return; }
    p.selfPause = true;
    p.video.pause();
  }
  function playPlayer(p) {
    if (!p.video || !p.video.paused || p.video.ended) { return; }
    p.selfPlay = true;
    var pr = p.video.play();
    if (pr && pr.catch) { pr.catch(function () { p.selfPlay = false; }); }
  }

  // spans are the MP4's recorded stretches: offset in the video (s) → wall-clock [start, end).
  function parseSpans(h) {
    if (!h) { return []; }
    return h.split(",").map(function (part) {
      var m = /^\s*([\d.]+)=([^/]+)\/(.+?)\s*$/.exec(part);
      return m ? { off: parseFloat(m[1]), s: T.parse(m[2]), e: T.parse(m[3]) } : null;
    }).filter(Boolean);
  }
  function wallOf(p, ct) {
    if (!p.spans || !p.spans.length) { return NaN; }
    for (var i = p.spans.length - 1; i >= 0; i--) {
      var sp = p.spans[i];
      if (ct >= sp.off - 0.001) { return Math.min(sp.s + (ct - sp.off) * 1000, sp.e); }
    }
    return p.spans[0].s;
  }
  // locate says where wall-clock time w lies in a player's MP4.
  function locate(p, w) {
    if (!p.spans) { return { kind: "none" }; }
    for (var i = 0; i < p.spans.length; i++) {
      var sp = p.spans[i];
      if (w < sp.s) { return { kind: "gap", next: sp.s }; }
      if (w < sp.e) { return { kind: "span", off: sp.off + (w - sp.s) / 1000 }; }
    }
    return { kind: "after" };
  }

  function playbackURL(p, from, to) {
    var start = from <= viewing.start ? viewing.startISO : T.iso(from);
    var end = to >= viewing.end ? viewing.endISO : T.iso(to);
    return "/api/v1/cameras/" + encodeURIComponent(p.cam) + "/playback.mp4?viewing=" + encodeURIComponent(viewing.id) +
      "&start=" + encodeURIComponent(start) + "&end=" + encodeURIComponent(end);
  }

  // load points player p at wall-clock t: the spans first (a HEAD answers them in its headers),
  // then the video from the offset of t. An MP4 holds at most six hours of the viewing.
  function load(p, t) {
    var to = Math.min(viewing.end, t + 6 * HOUR);
    p.spans = null; // until the new MP4's spans are known its clock says nothing
    if (p.clock) { p.clock.textContent = ""; delete p.clock.dataset.wall; }
    if (t >= to) { p.spans = []; p.servedEnd = viewing.end; setNote(p, msg.no_recording); return; }
    var url = playbackURL(p, Math.max(t, viewing.start), to);
    p.loading = true;
    setNote(p, msg.opening);
    fetch(url, { method: "HEAD", credentials: "same-origin" }).then(function (res) {
      p.loading = false;
      if (res.status === 404) { p.spans = []; p.servedEnd = to; setNote(p, msg.no_recording); pausePlayer(p); return; }
      if (!res.ok) { p.spans = []; p.servedEnd = to; setNote(p, msg.failed + " " + res.status); return; }
      p.spans = parseSpans(res.headers.get("X-Civicam-Spans"));
      p.servedEnd = to;
      setNote(p, "");
      var v = ensureVideo(p);
      var at = locate(p, Math.max(t, state.clock || t));
      var off = at.kind === "span" ? at.off : at.kind === "gap" ? (function () {
        for (var i = 0; i < p.spans.length; i++) { if (p.spans[i].s === at.next) { return p.spans[i].off; } }
        return 0;
      })() : 0;
      var begin = function () {
        seekTo(p, off);
        if (state.playing) { playPlayer(p); }
      };
      p.own++; // the src change seeks to 0 on its own
      v.src = url;
      v.addEventListener("loadedmetadata", function once() { v.removeEventListener("loadedmetadata", once); p.own = 0; begin(); });
    }).catch(function (e) { p.loading = false; setNote(p, msg.failed + " " + e); });
  }
  function setNote(p, text) { if (p.note) { p.note.textContent = text || ""; } }

  // A server-drawn page's video: read its spans from the same URL, then follow it.
  players.forEach(function (p) {
    if (!p.video || !p.video.getAttribute("src")) { return; }
    state.playing = !p.video.paused || p.video.autoplay;
    fetch(p.video.getAttribute("src"), { method: "HEAD", credentials: "same-origin" }).then(function (res) {
      if (!res.ok) { return; }
      p.spans = parseSpans(res.headers.get("X-Civicam-Spans"));
      p.servedEnd = viewing ? viewing.end : 0;
      state.clock = wallOf(p, p.video.currentTime);
      draw();
    });
  });

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)civicam_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function purposeNow() {
    var f = document.getElementById("play-purpose");
    if (f && f.value.trim()) { return f.value.trim(); }
    return viewing ? viewing.purpose : (cfg.purpose || "");
  }
  function applicationNow() {
    var f = document.getElementById("play-application");
    return f && f.value.trim() ? f.value.trim() : (cfg.application_id || "");
  }

  // open opens a viewing over the timeline's window (within what the user may look at) that
  // holds t, then calls done.
  function open(t, done) {
    var purpose = purposeNow();
    if (!purpose) {
      showError(msg.purpose_required);
      var f = document.getElementById("play-purpose");
      if (f) { f.focus(); }
      return;
    }
    var from = Math.max(view.start, boundStart), to = Math.min(view.end, boundEnd, now());
    if (t < from || t >= to) { from = Math.max(t - 30 * 60e3, boundStart); to = Math.min(t + 30 * 60e3, boundEnd, now()); }
    var body = { camera_ids: cams.map(function (c) { return c.id; }), start: T.iso(from), end: T.iso(to), purpose: purpose };
    var app = applicationNow();
    if (app) { body.application_id = app; }
    showError("");
    fetch("/api/v1/viewings", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(body) })
      .then(function (res) { return res.json().then(function (j) { return { ok: res.ok, status: res.status, j: j }; }); })
      .then(function (r) {
        if (!r.ok) { showError(msg.failed + " " + ((r.j.error && r.j.error.message) || r.status)); return; }
        setViewing(r.j);
        done();
      }).catch(function (e) { showError(msg.failed + " " + e); });
  }

  // playAt plays every player from wall-clock t, together.
  function playAt(t) {
    t = Math.max(Math.min(t, now(), boundEnd), boundStart);
    var inside = viewing && t >= viewing.start && t < viewing.end &&
      cams.every(function (c) { return viewing.cameras.indexOf(c.id) >= 0; });
    var go = function () {
      state.clock = t; state.playing = true; state.last = now();
      players.forEach(function (p) { load(p, t); });
      draw();
    };
    if (inside) { go(); } else { open(t, go); }
  }

  // ---- the clock that keeps the players together ----
  function tick() {
    var n = now(), dt = n - state.last;
    state.last = n;
    if (state.playing && !isNaN(state.clock)) {
      // The clock follows a player that plays where it says; when none does (all in a gap, one
      // jumped over a gap of its own) it runs on by itself.
      var lead = null;
      players.forEach(function (p) {
        if (lead || !p.video || p.video.paused || p.video.seeking || p.video.readyState < 3 || !p.spans) { return; }
        var w = wallOf(p, p.video.currentTime);
        if (Math.abs(w - state.clock) < 1500) { lead = p; }
      });
      var waiting = players.some(function (p) {
        return p.loading || (p.video && p.video.readyState < 3 && locate(p, state.clock).kind === "span");
      });
      if (lead) { state.clock = wallOf(lead, lead.video.currentTime); } else if (!waiting) { state.clock += dt; }
      var inSpan = false, next = Infinity, pending = false;
      players.forEach(function (p) {
        if (p.loading) { pending = true; return; }
        var at = locate(p, state.clock);
        if (at.kind === "span") {
          inSpan = true;
          setNote(p, "");
          if (p !== lead && p.video && !p.video.seeking && Math.abs(p.video.currentTime - at.off) > 0.4) { seekTo(p, at.off); }
          playPlayer(p);
        } else if (at.kind === "gap") {
          pausePlayer(p);
          setNote(p, msg.gap);
          next = Math.min(next, at.next);
        } else if (at.kind === "after") {
          if (viewing && p.servedEnd < viewing.end && state.clock < viewing.end) { pending = true; load(p, state.clock); } else {
            pausePlayer(p);
            setNote(p, msg.no_recording);
          }
        }
      });
      if (!inSpan && !pending) {
        if (next < Infinity) { state.clock = next; } else if (players.every(function (p) { return p.spans; })) { state.playing = false; }
      }
    }
    players.forEach(function (p) {
      if (!p.clock) { return; }
      var w = p.video && p.spans && p.spans.length ? wallOf(p, p.video.currentTime) : NaN;
      var at = isNaN(state.clock) ? null : locate(p, state.clock);
      if (players.length > 1 && at && at.kind !== "span") { w = NaN; }
      p.clock.textContent = isNaN(w) ? "" : T.format(w, zone);
      if (isNaN(w)) { delete p.clock.dataset.wall; } else { p.clock.dataset.wall = T.iso(w); }
    });
    if (syncClock) {
      syncClock.textContent = isNaN(state.clock) ? "" : T.format(state.clock, zone);
      if (!isNaN(state.clock)) { syncClock.dataset.wall = T.iso(state.clock); }
    }
    drawCursor();
  }
  setInterval(tick, 200);

  // ---- the timeline ----
  var NS = "http://www.w3.org/2000/svg";
  var rowH = 24, top = 6;
  var H = top + cams.length * rowH + 26;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("tabindex", "0");
  svg.classList.add("tl-live");
  var tools = document.getElementById("tl-tools");
  if (tools) { tools.hidden = false; }
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function x(t) { return (t - view.start) / (view.end - view.start) * W; }
  var cursor = null, extent = null;
  function draw() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    svg.appendChild(el("title", {}, T.format(view.start, zone) + " – " + T.format(view.end, zone)));
    svg.dataset.viewStart = T.iso(view.start);
    svg.dataset.viewEnd = T.iso(view.end);
    svg.dataset.span = String(view.end - view.start);
    cams.forEach(function (c, i) {
      var y = top + i * rowH;
      svg.appendChild(el("rect", { x: 0, y: y, width: W, height: rowH - 6, "class": "tl-gap" }));
      c.ranges.forEach(function (r) {
        if (r[1] < view.start || r[0] > view.end) { return; }
        var a = Math.max(x(r[0]), 0), b = Math.min(x(r[1]), W);
        svg.appendChild(el("rect", { x: a.toFixed(1), y: y, width: Math.max(b - a, 1.5).toFixed(1), height: rowH - 6, "class": "tl-rec",
          "data-camera": c.id }));
      });
      if (cams.length > 1) { svg.appendChild(el("text", { x: 4, y: y + rowH - 10, "class": "tl-row-label" }, c.name)); }
    });
    var span = view.end - view.start;
    var step = span <= HOUR ? 10 * 60e3 : span <= 6 * HOUR ? HOUR : span <= DAY ? 3 * HOUR : DAY;
    var off = T.offset(view.start, zone);
    var first = Math.ceil((view.start + off) / step) * step - off;
    var yb = top + cams.length * rowH;
    for (var t = first; t < view.end; t += step) {
      var tx = x(t);
      svg.appendChild(el("line", { x1: tx, y1: yb - 6, x2: tx, y2: yb, "class": "tl-tick" }));
      svg.appendChild(el("text", { x: tx, y: yb + 12, "text-anchor": "middle", "class": "tl-label" }, T.clock(t, zone, step >= DAY ? "date" : false)));
    }
    if (viewing) {
      extent = el("rect", { x: x(viewing.start), y: top - 3, width: Math.max(x(viewing.end) - x(viewing.start), 1), height: cams.length * rowH, "class": "tl-extent" });
      svg.appendChild(extent);
    }
    cursor = el("line", { y1: top - 4, y2: yb, "class": "tl-cursor", id: "tl-cursor" });
    svg.appendChild(cursor);
    drawCursor();
    document.querySelectorAll(".windows a").forEach(function (a) {
      var l = LEVELS[["1h", "6h", "24h", "7d"].indexOf(a.textContent.trim())];
      if (l === span) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
    });
  }
  function drawCursor() {
    if (!cursor) { return; }
    var on = !isNaN(state.clock) && state.clock >= view.start && state.clock <= view.end;
    cursor.setAttribute("visibility", on ? "visible" : "hidden");
    if (on) { cursor.setAttribute("x1", x(state.clock)); cursor.setAttribute("x2", x(state.clock)); }
  }

  // clampView keeps the window inside what may be looked at: not past now, not outside a
  // reviewer's application window.
  function clampView() {
    var span = view.end - view.start;
    var hi = Math.min(now(), boundEnd), lo = boundStart;
    if (view.end > hi) { view.end = hi; view.start = hi - span; }
    if (view.start < lo) { view.start = lo; view.end = Math.min(lo + span, hi); }
  }
  // zoom sets the window's span, around the playing moment if it is in view, else keeping the
  // right edge when it is at now (the newest recordings), else around the middle.
  function zoom(span) {
    span = Math.max(HOUR, Math.min(7 * DAY, span));
    var anchor, frac;
    if (!isNaN(state.clock) && state.clock >= view.start && state.clock <= view.end) {
      anchor = state.clock; frac = (anchor - view.start) / (view.end - view.start);
    } else if (view.end >= Math.min(now(), boundEnd) - 60e3) {
      anchor = view.end; frac = 1;
    } else {
      anchor = (view.start + view.end) / 2; frac = 0.5;
    }
    view.start = anchor - frac * span;
    view.end = view.start + span;
    clampView();
    draw();
    fetchCoverage();
  }
  function level(dir) {
    var span = view.end - view.start, i;
    if (dir < 0) {
      for (i = LEVELS.length - 1; i >= 0; i--) { if (LEVELS[i] < span - 1) { return zoom(LEVELS[i]); } }
      return zoom(LEVELS[0]);
    }
    for (i = 0; i < LEVELS.length; i++) { if (LEVELS[i] > span + 1) { return zoom(LEVELS[i]); } }
    return zoom(LEVELS[LEVELS.length - 1]);
  }
  var zin = document.getElementById("tl-zoom-in"), zout = document.getElementById("tl-zoom-out");
  if (zin) { zin.addEventListener("click", function () { level(-1); }); }
  if (zout) { zout.addEventListener("click", function () { level(1); }); }
  document.querySelectorAll(".windows a").forEach(function (a) {
    var l = LEVELS[["1h", "6h", "24h", "7d"].indexOf(a.textContent.trim())];
    if (!l) { return; }
    a.addEventListener("click", function (ev) { ev.preventDefault(); zoom(l); });
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var span = view.end - view.start, r = svg.getBoundingClientRect();
    var t = view.start + (ev.clientX - r.left) / r.width * span;
    var ns = Math.max(HOUR, Math.min(7 * DAY, span * (ev.deltaY > 0 ? 1.25 : 0.8)));
    var frac = (t - view.start) / span;
    view.start = t - frac * ns; view.end = view.start + ns;
    clampView(); draw(); fetchCoverage();
  }, { passive: false });

  // Dragging moves the window; a press that does not move is a click on a moment.
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    drag = { x: ev.clientX, start: view.start, end: view.end, moved: false, w: svg.getBoundingClientRect().width };
    if (svg.setPointerCapture) { try { svg.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic pointer */ } }
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x;
    if (Math.abs(dx) > 4) { drag.moved = true; }
    if (!drag.moved) { return; }
    var shift = -dx / drag.w * (drag.end - drag.start);
    view.start = drag.start + shift; view.end = drag.end + shift;
    clampView(); draw();
  });
  svg.addEventListener("pointerup", function (ev) {
    if (!drag) { return; }
    var d = drag;
    drag = null;
    if (d.moved) { fetchCoverage(); return; }
    var r = svg.getBoundingClientRect();
    playAt(view.start + (ev.clientX - r.left) / r.width * (view.end - view.start));
  });
  svg.addEventListener("click", function (ev) { ev.preventDefault(); }); // the server-drawn bars' links
  svg.addEventListener("keydown", function (ev) {
    var span = view.end - view.start;
    if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
      var s = (ev.key === "ArrowLeft" ? -0.1 : 0.1) * span;
      view.start += s; view.end += s; clampView(); draw(); fetchCoverage(); ev.preventDefault();
    } else if (ev.key === "+" || ev.key === "=") { level(-1); } else if (ev.key === "-") { level(1); } else if (ev.key === "Enter") {
      playAt(isNaN(state.clock) ? (view.start + view.end) / 2 : state.clock);
    }
  });

  // fetchCoverage reads what each camera recorded around the window when it is not read yet: a
  // week at a time, each read traced by the server.
  var fetchTimer = null;
  function fetchCoverage() {
    clearTimeout(fetchTimer);
    fetchTimer = setTimeout(function () {
      cams.forEach(function (c) {
        var covered = c.loaded.some(function (l) { return l[0] <= view.start && l[1] >= view.end; });
        if (covered) { return; }
        var span = view.end - view.start;
        var to = Math.min(Math.max(view.end + span, view.start + 7 * DAY), now(), boundEnd);
        var from = Math.max(to - 7 * DAY, boundStart);
        if (from > view.start) { from = Math.max(view.start, boundStart); to = Math.min(from + 7 * DAY, now(), boundEnd); }
        var q = "?start=" + encodeURIComponent(T.iso(from)) + "&end=" + encodeURIComponent(T.iso(to));
        if (cfg.application_id) { q += "&application_id=" + encodeURIComponent(cfg.application_id); }
        c.loaded.push([from, to]);
        fetch("/cameras/" + encodeURIComponent(c.id) + "/recorded" + q, { credentials: "same-origin" })
          .then(function (res) { return res.ok ? res.json() : null; })
          .then(function (j) {
            if (!j) { return; }
            c.ranges = c.ranges.filter(function (r) { return r[1] < from || r[0] > to; })
              .concat(j.ranges.map(function (r) { return [T.parse(r[0]), T.parse(r[1])]; }))
              .sort(function (a, b) { return a[0] - b[0]; });
            draw();
          });
      });
    }, 250);
  }

  var pp = document.getElementById("sync-play");
  if (pp) {
    pp.addEventListener("click", function () {
      state.playing = !state.playing;
      players.forEach(function (p) { if (!state.playing) { pausePlayer(p); } });
      pp.textContent = state.playing ? msg.pause : msg.play;
    });
  }

  draw();
  if (cfg.at && viewing) {
    // The review page: the viewing is open, the players start at the moment asked.
    var t0 = T.parse(cfg.at);
    state.clock = Math.max(Math.min(t0, viewing.end), viewing.start);
    state.playing = true;
    players.forEach(function (p) { load(p, state.clock); });
  }
})();
