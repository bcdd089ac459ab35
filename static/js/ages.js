// Relative times tick: every <time data-age datetime="ISO 8601"> shows a kubectl-style age (45s, 3m, 2h, 4d),
// refreshed every few seconds, including rows swapped in later. The server's clock is the reference
// (<meta name="server-time">), so a browser whose clock is off still shows the server's ages.
(function () {
  var TICK_MS = 5000;
  var meta = document.querySelector('meta[name="server-time"]');
  var offset = meta ? Date.parse(meta.content) - Date.now() : 0;
  if (isNaN(offset)) offset = 0;

  function age(seconds) {
    var units = [["d", 86400], ["h", 3600], ["m", 60]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][1]) return Math.floor(seconds / units[i][1]) + units[i][0];
    }
    return seconds + "s";
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("time[data-age]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = age(Math.max(0, Math.floor((now - at) / 1000)));
    });
  }

  setInterval(tick, TICK_MS);
})();
