// The live inbox: a new urgent alert plays a short sound and puts the count in the tab title, each of
// which the person can turn off (remembered in this browser). No inline script: the page's CSP forbids it.
(function () {
  "use strict";
  var seen = null;
  var baseTitle = document.title;

  function setting(id) {
    var box = document.getElementById(id);
    return !box || box.checked;
  }

  function remember(id) {
    var box = document.getElementById(id);
    if (!box) return;
    var stored = window.localStorage.getItem("console." + id);
    if (stored !== null) box.checked = stored === "on";
    box.addEventListener("change", function () {
      window.localStorage.setItem("console." + id, box.checked ? "on" : "off");
      update(false);
    });
  }

  // Browsers let a page make sound only after the person has interacted with it: the audio is
  // unlocked on the first click or key press, and the inbox says so until then.
  var audio = null;
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var hint = document.getElementById("sound-hint");
      if (hint) hint.hidden = true;
    } catch (e) { /* no audio device: the title and the announcement still change */ }
  }
  document.addEventListener("click", unlockAudio);
  document.addEventListener("keydown", unlockAudio);

  function chime() {
    document.body.setAttribute("data-last-chime", String(Date.now()));
    if (!audio) unlockAudio();
    if (!audio) return;
    try {
      var ctx = audio;
      var tone = ctx.createOscillator();
      var gain = ctx.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.15;
      tone.connect(gain);
      gain.connect(ctx.destination);
      tone.start();
      tone.stop(ctx.currentTime + 0.4);
    } catch (e) { /* a browser that blocks audio before any interaction: the title still changes */ }
  }

  function update(announce) {
    var live = document.getElementById("inbox-live");
    if (!live) return;
    var ids = (live.getAttribute("data-urgent-ids") || "").split(" ").filter(Boolean);
    var fresh = seen === null ? [] : ids.filter(function (id) { return seen.indexOf(id) < 0; });
    seen = ids;
    document.title = (ids.length && setting("title-toggle") ? "(" + ids.length + " urgent) " : "") + baseTitle;
    if (announce && fresh.length) {
      var region = document.getElementById("inbox-announce");
      if (region) region.textContent = fresh.length + " new urgent alert" + (fresh.length > 1 ? "s" : "");
      if (setting("chime-toggle")) chime();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    remember("chime-toggle");
    remember("title-toggle");
    update(false);
  });
  document.addEventListener("htmx:afterSettle", function () { update(true); });
  // A refused or failed htmx action is said, not silently dropped (a reload shows the full error page).
  document.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("action-error");
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : "";
    if (region) region.textContent = "That did not work (" + status + "). Reload the page to see why.";
  });
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("action-error");
    if (region) region.textContent = "The console cannot be reached. Check the connection; the page will keep trying.";
  });
})();
