/* 点击排行: tell the site once that this story was read (readers/most_read.py).
   The page names the beacon in data-beacon on this script's tag; a page being prerendered
   counts only if the reader actually opens it. */
(function () {
  "use strict";
  var script = document.currentScript;
  var beacon = script && script.getAttribute("data-beacon");
  if (!beacon) {
    return;
  }
  function send() {
    if (navigator.sendBeacon && navigator.sendBeacon(beacon)) {
      return;
    }
    if (window.fetch) {
      fetch(beacon, { method: "POST", keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", send, { once: true });
  } else {
    send();
  }
})();
