// The live grid: every tile is a live view of its own by WHEP (as static/live.js makes one),
// started together under the one purpose given for the grid session, whose id each tile's
// request carries so that the trail groups them. The layout and the tiles' cameras change in
// place (the URL and the save form follow); a still of a tile is its <video>'s current frame as
// a JPEG, sent to the server, which traces it and answers the copy to keep.
(function () {
  'use strict';
  var root = document.getElementById('live-grid');
  if (!root) { return; }
  var tilesBox = document.getElementById('grid-tiles');
  var layoutSel = document.getElementById('grid-layout');
  var startForm = document.getElementById('grid-start-form');
  var purpose = document.getElementById('grid-purpose');
  var caseRef = document.getElementById('grid-case');
  var startBtn = document.getElementById('grid-start');
  var stopBtn = document.getElementById('grid-stop');
  var fullBtn = document.getElementById('grid-fullscreen');
  var status = document.getElementById('grid-status');
  var saveLayout = document.getElementById('grid-save-layout');
  var saveCams = document.getElementById('grid-save-cameras');
  var applyBtn = document.getElementById('grid-apply');
  var tiles = Array.prototype.slice.call(tilesBox.querySelectorAll('.lg-tile'));
  var session = null; // {grid, purpose, caseRef} while the grid runs
  var views = {};     // tile index -> {pc, resource, camera}

  if (applyBtn) { applyBtn.hidden = true; } // changes apply at once

  // auth.CSRFCookie and auth.CSRFHeader on the server.
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)civicam_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : '';
  }
  function say(text) { status.textContent = text; }
  function layout() { return Number(layoutSel.value) || 4; }
  function tileStatus(tile, text) { tile.querySelector('.lg-status').textContent = text; }
  function newGridID() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  // sync makes the layout, the URL and the save form say what the tiles show.
  function sync() {
    var n = layout();
    tilesBox.className = 'lg-tiles lg-' + n;
    root.dataset.layout = String(n);
    var q = new URLSearchParams();
    q.set('layout', String(n));
    var ids = [];
    tiles.forEach(function (tile, i) {
      var shown = i < n;
      tile.hidden = !shown;
      tile.querySelector('.lg-camera').disabled = !shown;
      if (shown) { ids.push(tile.dataset.camera || ''); }
    });
    while (ids.length && !ids[ids.length - 1]) { ids.pop(); }
    ids.forEach(function (id) { q.append('camera', id); });
    history.replaceState(null, '', '/live?' + q.toString());
    saveLayout.value = String(n);
    saveCams.textContent = '';
    ids.forEach(function (id) {
      var inp = document.createElement('input');
      inp.type = 'hidden'; inp.name = 'camera'; inp.value = id;
      saveCams.appendChild(inp);
    });
  }

  function gathered(conn) {
    return new Promise(function (resolve) {
      if (conn.iceGatheringState === 'complete') { resolve(); return; }
      conn.addEventListener('icegatheringstatechange', function () {
        if (conn.iceGatheringState === 'complete') { resolve(); }
      });
      setTimeout(resolve, 2000); // send what was gathered by then
    });
  }

  function stopTile(tile, tellServer) {
    var i = tile.dataset.tile;
    var v = views[i];
    delete views[i];
    if (v) {
      if (tellServer && v.resource) {
        fetch(v.resource, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf() }, credentials: 'same-origin', keepalive: true });
      }
      v.pc.close();
    }
    tile.querySelector('.lg-video').srcObject = null;
    tile.querySelector('.lg-snapshot').disabled = true;
    tile.dataset.state = '';
  }

  async function startTile(tile) {
    stopTile(tile, true);
    var cam = tile.dataset.camera;
    if (!cam || !session) { return; }
    var video = tile.querySelector('.lg-video');
    var conn = new RTCPeerConnection({ iceServers: [] });
    var v = { pc: conn, resource: null, camera: cam };
    views[tile.dataset.tile] = v;
    var t0 = performance.now();
    tile.dataset.firstFrameMs = '';
    tile.dataset.state = 'connecting';
    tileStatus(tile, root.dataset.connecting);
    var ended = function () {
      if (views[tile.dataset.tile] !== v) { return; }
      tileStatus(tile, root.dataset.ended);
      stopTile(tile, false);
    };
    conn.addTransceiver('video', { direction: 'recvonly' });
    conn.ontrack = function (ev) { video.srcObject = ev.streams[0] || new MediaStream([ev.track]); };
    conn.onconnectionstatechange = function () {
      var st = conn.connectionState;
      if (st === 'failed' || st === 'closed' || st === 'disconnected') { ended(); }
    };
    video.addEventListener('loadeddata', function () {
      if (views[tile.dataset.tile] !== v) { return; }
      tile.dataset.firstFrameMs = String(Math.round(performance.now() - t0));
      tile.dataset.state = 'playing';
      tileStatus(tile, root.dataset.playing);
      tile.querySelector('.lg-snapshot').disabled = !tile.dataset.snapshot;
    }, { once: true });
    await conn.setLocalDescription(await conn.createOffer());
    await gathered(conn);
    if (views[tile.dataset.tile] !== v) { return; }
    var q = new URLSearchParams({ purpose: session.purpose, grid: session.grid });
    if (session.caseRef) { q.set('case_ref', session.caseRef); }
    var res = await fetch('/api/v1/cameras/' + encodeURIComponent(cam) + '/whep?' + q.toString(), {
      method: 'POST', credentials: 'same-origin', body: conn.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', 'X-CSRF-Token': csrf() }
    });
    if (res.status !== 201) {
      var msg = String(res.status);
      try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    v.resource = res.headers.get('Location');
    if (views[tile.dataset.tile] !== v) { // stopped while the answer came: end it at once
      fetch(v.resource, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf() }, credentials: 'same-origin', keepalive: true });
      return;
    }
    await conn.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    // The server ending the session closes its DTLS at once (see live.js).
    conn.getReceivers().forEach(function (rx) {
      var dtls = rx.transport;
      if (!dtls) { return; }
      dtls.addEventListener('statechange', function () {
        if (dtls.state === 'closed' || dtls.state === 'failed') { ended(); }
      });
    });
  }

  function run(tile) {
    startTile(tile).catch(function (err) {
      stopTile(tile, true);
      tile.dataset.state = 'failed';
      tileStatus(tile, root.dataset.failed + ' ' + err.message);
    });
  }

  function running(on) {
    startBtn.hidden = on; stopBtn.hidden = !on;
    purpose.disabled = on; caseRef.disabled = on;
  }

  function stopAll(tellServer) {
    tiles.forEach(function (tile) { stopTile(tile, tellServer); });
    session = null;
    running(false);
  }

  startForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var why = purpose.value.trim();
    if (!why) { purpose.focus(); return; }
    var n = layout();
    var any = tiles.slice(0, n).some(function (t) { return !!t.dataset.camera; });
    if (!any) { say(root.dataset.needCamera); return; }
    stopAll(true);
    // One grid session per purpose given: its id groups the tiles' trail entries.
    session = { grid: newGridID(), purpose: why, caseRef: caseRef.value.trim() };
    root.dataset.grid = session.grid;
    running(true);
    say('');
    tiles.slice(0, n).forEach(run);
  });
  stopBtn.addEventListener('click', function () { stopAll(true); say(root.dataset.ended); });

  layoutSel.addEventListener('change', function () {
    sync();
    var n = layout();
    tiles.forEach(function (tile, i) {
      if (i >= n) { stopTile(tile, true); } else if (session && tile.dataset.camera && !views[tile.dataset.tile]) { run(tile); }
    });
  });

  tiles.forEach(function (tile) {
    var sel = tile.querySelector('.lg-camera');
    sel.addEventListener('change', function () {
      tile.dataset.camera = sel.value;
      var opt = sel.options[sel.selectedIndex];
      tile.dataset.snapshot = opt && opt.dataset.snapshot ? '1' : '';
      tileStatus(tile, '');
      sync();
      if (session && sel.value) { run(tile); } else { stopTile(tile, true); }
    });
    tile.querySelector('.lg-tile-fullscreen').addEventListener('click', function () { toggleFullscreen(tile); });
    tile.querySelector('.lg-snapshot').addEventListener('click', function () {
      snapshot(tile).catch(function (err) { tileStatus(tile, root.dataset.snapshotFailed + ' ' + err.message); });
    });
  });

  function toggleFullscreen(el) {
    if (document.fullscreenElement === el) { return document.exitFullscreen(); }
    return el.requestFullscreen();
  }
  fullBtn.addEventListener('click', function () { toggleFullscreen(tilesBox); });
  document.addEventListener('fullscreenchange', function () {
    fullBtn.setAttribute('aria-pressed', String(document.fullscreenElement === tilesBox));
  });

  function toBlob(canvas) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (b) { if (b) { resolve(b); } else { reject(new Error('canvas')); } }, 'image/jpeg', 0.92);
    });
  }
  function dataURL(blob) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onload = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
      r.readAsDataURL(blob);
    });
  }

  async function snapshot(tile) {
    var v = views[tile.dataset.tile];
    var video = tile.querySelector('.lg-video');
    if (!v || !v.resource || !video.videoWidth) { throw new Error(root.dataset.ended); }
    var canvas = document.createElement('canvas');
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    var res = await fetch(v.resource + '/snapshot', {
      method: 'POST', credentials: 'same-origin', body: await toBlob(canvas),
      headers: { 'Content-Type': 'image/jpeg', 'X-CSRF-Token': csrf() }
    });
    if (res.status !== 200) {
      var msg = String(res.status);
      try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    var url = await dataURL(await res.blob());
    var link = tile.querySelector('.lg-still');
    link.href = url;
    link.download = 'snapshot-' + v.camera + '-' + new Date().toISOString().replace(/[:.]/g, '-') + '.jpg';
    link.querySelector('img').src = url;
    link.hidden = false;
    tile.dataset.snapshotSha256 = res.headers.get('X-Civicam-Snapshot-Sha256') || '';
    tileStatus(tile, root.dataset.snapshotDone);
  }

  window.addEventListener('pagehide', function () { stopAll(true); });
}());
