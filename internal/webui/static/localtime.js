// Local time in the city's zone (the policy pack's), whatever zone the browser is in: the
// review pages read and show times as people in the city do, and the API takes RFC 3339.
(function () {
  "use strict";
  var fmts = {};
  function parts(ms, zone) {
    var f = fmts[zone];
    if (!f) {
      f = fmts[zone] = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
    var o = {};
    f.formatToParts(new Date(ms)).forEach(function (p) { o[p.type] = p.value; });
    return o;
  }
  // offset is the zone's offset from UTC at instant ms, in milliseconds.
  function offset(ms, zone) {
    var p = parts(ms, zone);
    var wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
    return wall - (ms - ((ms % 1000) + 1000) % 1000);
  }
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) { n = "0" + n; } return n; }
  function label(off) {
    if (off === 0) { return "UTC"; }
    var m = Math.abs(off) / 60000;
    return "UTC" + (off < 0 ? "-" : "+") + pad(Math.floor(m / 60)) + ":" + pad(m % 60);
  }
  // wall is the local wall-clock fields of ms: {y, mo, d, h, mi, s, ms}.
  function wall(ms, zone) {
    var w = new Date(ms + offset(ms, zone));
    return { y: w.getUTCFullYear(), mo: w.getUTCMonth() + 1, d: w.getUTCDate(), h: w.getUTCHours(),
      mi: w.getUTCMinutes(), s: w.getUTCSeconds(), ms: w.getUTCMilliseconds() };
  }
  window.civicamTime = {
    offset: offset,
    // parse reads RFC 3339 (any number of fractional digits) to milliseconds.
    parse: function (s) {
      if (!s) { return NaN; }
      var m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(String(s).trim());
      if (!m) { return Date.parse(s); }
      return Date.parse(m[1] + "." + ((m[2] || "") + "000").slice(0, 3) + m[3]);
    },
    iso: function (ms) { return new Date(ms).toISOString(); },
    // fromInput reads a datetime-local value as local time in zone.
    fromInput: function (v, zone) {
      var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?$/.exec(String(v).trim());
      if (!m) { return NaN; }
      var guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), +((m[7] || "0") + "00").slice(0, 3));
      var t = guess - offset(guess, zone);
      return guess - offset(t, zone);
    },
    toInput: function (ms, zone) {
      var w = wall(ms, zone);
      return w.y + "-" + pad(w.mo) + "-" + pad(w.d) + "T" + pad(w.h) + ":" + pad(w.mi) + ":" + pad(w.s) + "." + pad(w.ms, 3);
    },
    // format is "2026-12-08 09:30:05 UTC+08:00", as the server writes local time.
    format: function (ms, zone) {
      var w = wall(ms, zone);
      return w.y + "-" + pad(w.mo) + "-" + pad(w.d) + " " + pad(w.h) + ":" + pad(w.mi) + ":" + pad(w.s) + " " + label(offset(ms, zone));
    },
    clock: function (ms, zone, withDate) {
      var w = wall(ms, zone);
      var hm = pad(w.h) + ":" + pad(w.mi);
      return withDate ? pad(w.mo) + "-" + pad(w.d) + (withDate === "date" ? "" : " " + hm) : hm;
    }
  };
})();
