// Live view by WHEP: offer to receive video, POST the offer to the API with the session cookie
// and the CSRF header, apply the answer; DELETE the session's resource to stop. The server
// closes the connection itself when the viewer's right ends (logout, role change, revocation).
(function () {
  'use strict';
  var root = document.getElementById('live');
  if (!root || !window.RTCPeerConnection) { return; }
  var video = document.getElementById('live-video');
  var form = document.getElementById('live-form');
  var purpose = document.getElementById('live-purpose');
  var startBtn = document.getElementById('live-start');
  var stopBtn = document.getElementById('live-stop');
  var status = document.getElementById('live-status');
  var pc = null;
  var resource = null;

  // auth.CSRFCookie and auth.CSRFHeader on the server.
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)civicam_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : '';
  }
  function say(text) { status.textContent = text; }
  function running(on) { startBtn.hidden = on; stopBtn.hidden = !on; purpose.disabled = on; }

  function gathered(conn) {
    return new Promise(function (resolve) {
      if (conn.iceGatheringState === 'complete') { resolve(); return; }
      var done = function () { if (conn.iceGatheringState === 'complete') { resolve(); } };
      conn.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000); // send what was gathered by then
    });
  }

  function stop(tellServer) {
    if (tellServer && resource) {
      fetch(resource, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf() }, credentials: 'same-origin', keepalive: true });
    }
    resource = null;
    if (pc) { pc.close(); pc = null; }
    video.srcObject = null;
    running(false);
  }

  async function start(why) {
    stop(true);
    var t0 = performance.now();
    root.dataset.firstFrameMs = '';
    var conn = new RTCPeerConnection({ iceServers: [] });
    pc = conn;
    running(true);
    say(root.dataset.connecting);
    conn.addTransceiver('video', { direction: 'recvonly' });
    // The camera's Opus or G.711 comes beside the video when it sends either (the answer's
    // X-Civicam-Audio header says which); AAC cannot, and the page says so.
    conn.addTransceiver('audio', { direction: 'recvonly' });
    var media = new MediaStream();
    conn.ontrack = function (ev) { media.addTrack(ev.track); video.srcObject = media; };
    conn.onconnectionstatechange = function () {
      if (pc !== conn) { return; }
      var st = conn.connectionState;
      if (st === 'failed' || st === 'closed' || st === 'disconnected') {
        say(root.dataset.ended);
        stop(false);
      }
    };
    video.addEventListener('loadeddata', function () {
      if (pc !== conn) { return; }
      root.dataset.firstFrameMs = String(Math.round(performance.now() - t0));
      say(root.dataset.playing);
    }, { once: true });
    await conn.setLocalDescription(await conn.createOffer());
    await gathered(conn);
    var url = '/api/v1/cameras/' + encodeURIComponent(root.dataset.camera) + '/whep?purpose=' + encodeURIComponent(why);
    var res = await fetch(url, {
      method: 'POST', credentials: 'same-origin', body: conn.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', 'X-CSRF-Token': csrf() }
    });
    if (res.status !== 201) {
      var msg = String(res.status);
      try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    resource = res.headers.get('Location');
    root.dataset.audio = res.headers.get('X-Civicam-Audio') || '';
    await conn.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    // The server ending the session (a revocation, a logout) closes its DTLS with close_notify:
    // the DTLS transport says so at once, where the connection's state would wait seconds for
    // ICE consent to time out.
    conn.getReceivers().forEach(function (rx) {
      var dtls = rx.transport;
      if (!dtls) { return; }
      dtls.addEventListener('statechange', function () {
        if (pc === conn && (dtls.state === 'closed' || dtls.state === 'failed')) {
          say(root.dataset.ended);
          stop(false);
        }
      });
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var why = purpose.value.trim();
    if (!why) { purpose.focus(); return; }
    start(why).catch(function (err) {
      stop(true);
      say(root.dataset.failed + ' ' + err.message);
    });
  });
  stopBtn.addEventListener('click', function () { stop(true); say(root.dataset.ended); });
  window.addEventListener('pagehide', function () { stop(true); });
}());
