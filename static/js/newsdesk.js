// Newsdesk's own script. htmx requests carry the CSRF token from the page's <meta>,
// so state-changing htmx requests pass the same check as plain form posts.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// A swap that replaces the element holding the focus (Save or Escape in an in-place editor,
// a workflow step, a sidebar list's pager) would drop the focus to the top of the page.
// Keep the place: unless htmx (an element with the same id) or the editor (its field) has
// placed it already, the first [data-return-focus] of what came in takes it.
const focusWasIn = new WeakMap(); // request -> id of the element it replaces, which had it
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (target && target.id && target.contains(document.activeElement)) {
    focusWasIn.set(event.detail.xhr, target.id);
  }
});
document.addEventListener("htmx:afterSettle", (event) => {
  const id = focusWasIn.get(event.detail.xhr);
  if (!id) return;
  focusWasIn.delete(event.detail.xhr); // once per request: afterSettle comes per element
  const focused = document.activeElement;
  if (focused && focused !== document.body) return;
  const swapped = document.getElementById(id);
  const landing = swapped &&
    (swapped.matches("[data-return-focus]") ? swapped : swapped.querySelector("[data-return-focus]"));
  if (landing) landing.focus();
});
