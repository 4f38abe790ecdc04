// Who is editing (loaded for staff only). Each open editor carries a marker
// (partials/presence_beat.html): an in-place field editor, or the full edit form. While
// it is on the page, this tells the server so (models.Presence): at once, then every few
// seconds, and again when the tab comes back into view. When htmx swaps the editor away
// (saved, cancelled) or the page goes, it says the editor closed. Others see it through
// the polled notice (partials/presence.html). Advice, never a lock: nothing waits on it.
(() => {
  "use strict";

  const open = new Map(); // marker -> its timer

  // sendBeacon: fire and forget, as a heartbeat is, and still sent while the page unloads.
  function send(url, field) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    const body = new FormData();
    body.append("csrf_token", meta ? meta.content : "");
    body.append("field", field);
    navigator.sendBeacon(url, body);
  }

  const beat = (marker) => send(marker.dataset.presenceBeat, marker.dataset.field);
  const done = (marker) => send(marker.dataset.presenceDone, marker.dataset.field);
  const editorOf = (marker) => `${marker.dataset.presenceBeat} ${marker.dataset.field}`;

  function start(marker) {
    if (open.has(marker)) return;
    beat(marker);
    open.set(marker, setInterval(() => beat(marker), Number(marker.dataset.every) * 1000));
  }

  // Editors no longer on the page have closed; one replaced by a new editor of the same
  // field (a refused save comes back as a form) is still open.
  function sweep() {
    const onPage = new Set([...document.querySelectorAll("[data-presence-beat]")].map(editorOf));
    for (const [marker, timer] of open) {
      if (marker.isConnected) continue;
      clearInterval(timer);
      open.delete(marker);
      if (!onPage.has(editorOf(marker))) done(marker);
    }
  }

  function beatAll() {
    for (const marker of open.keys()) beat(marker);
  }

  document.addEventListener("htmx:load", (event) => {
    for (const marker of event.detail.elt.querySelectorAll("[data-presence-beat]")) start(marker);
  });
  document.addEventListener("htmx:afterSettle", sweep);
  // A background tab's timers may be slowed to once a minute: say it again on return.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") beatAll();
  });
  window.addEventListener("pagehide", () => {
    for (const marker of open.keys()) done(marker);
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) beatAll(); // back from the back-forward cache, editors open again
  });
})();
