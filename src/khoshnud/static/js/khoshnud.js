// Khoshnud's own script: no inline handlers, so the Content-Security-Policy needs no
// 'unsafe-inline'.

// The language switch comes back to the address htmx may have pushed (a filtered timeline, a
// search), which the server-rendered "next" field cannot know.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.classList.contains("lang-switch")) {
    form.elements.next.value = location.pathname + location.search + location.hash;
  }
});
