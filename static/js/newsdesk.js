// Newsdesk's own script. htmx requests carry the CSRF token from the page's <meta>,
// so state-changing htmx requests pass the same check as plain form posts.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});
