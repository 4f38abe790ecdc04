// In-place editing for staff (loaded only for them). The server does the work:
// htmx swaps a field's view for its form (partials/field_form.html) and back.
// This script adds what a browser must do itself:
//   - a small rich-text editor for the body, with paste cleaned of styles and scripts;
//   - images (toolbar button, drag-and-drop, paste) uploaded to the server, which checks
//     and stores them, then inserted as <img src alt>; the lead-image field's upload;
//   - Escape cancels, Enter saves (Ctrl/Cmd+Enter in the body);
//   - an unsaved copy of every open editor in localStorage, offered back after a
//     closed tab, a crash or a lost connection, and dropped once the save succeeds;
//   - a clear message when a save fails on the network, keeping the text;
//   - the article version in open forms follows this editor's own saves, so only
//     other people's saves cause a conflict.
// The server sanitizes every save; nothing here is trusted.
(() => {
  "use strict";

  const STORAGE_PREFIX = "newsdesk:unsaved:";
  const ALLOWED_TAGS = new Set([
    "P", "BR", "H2", "H3", "H4", "STRONG", "EM", "U", "S", "SUB", "SUP", "BLOCKQUOTE",
    "Q", "CITE", "CODE", "PRE", "UL", "OL", "LI", "A", "TABLE", "CAPTION", "THEAD",
    "TBODY", "TFOOT", "TR", "TH", "TD", "FIGURE", "FIGCAPTION", "HR",
  ]);
  const RENAMED_TAGS = { B: "STRONG", I: "EM", H1: "H2", H5: "H4", H6: "H4", DIV: "P" };
  const DROPPED_TAGS = new Set([
    "SCRIPT", "STYLE", "META", "LINK", "TITLE", "HEAD", "TEMPLATE", "IFRAME", "OBJECT",
    "EMBED", "FORM", "INPUT", "BUTTON", "SELECT", "TEXTAREA", "SVG", "MATH", "NOSCRIPT",
  ]);
  const SAFE_URL = /^(https?:|mailto:|\/(?!\/)|#)/i;

  let knownVersion = null;

  // --- Paste cleaning: keep structure, lose styles, classes, scripts and comments ---

  function cleanNode(node, doc) {
    if (node.nodeType === Node.TEXT_NODE) return doc.createTextNode(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return null; // comments, processing instructions
    const tag = node.tagName.toUpperCase();
    if (DROPPED_TAGS.has(tag)) return null;
    const fragment = doc.createDocumentFragment();
    for (const child of node.childNodes) {
      const cleaned = cleanNode(child, doc);
      if (cleaned) fragment.appendChild(cleaned);
    }
    // Google Docs wraps whole pastes in <b style="font-weight:normal">: not bold at all.
    const fakeBold = tag === "B" &&
      /font-weight:\s*(normal|400)/.test(node.getAttribute("data-pasted-style") || "");
    const name = fakeBold ? null : RENAMED_TAGS[tag] || tag;
    if (!name || !ALLOWED_TAGS.has(name)) return fragment; // unwrap: keep the text
    const element = doc.createElement(name);
    if (name === "A") {
      const href = (node.getAttribute("href") || "").trim();
      if (SAFE_URL.test(href)) element.setAttribute("href", href);
    }
    for (const attribute of ["colspan", "rowspan"]) {
      if (node.hasAttribute(attribute)) element.setAttribute(attribute, node.getAttribute(attribute));
    }
    element.appendChild(fragment);
    return element;
  }

  function cleanHtml(html) {
    // Style attributes are renamed before parsing: parsing them would count as applying
    // inline styles, which the Content-Security-Policy refuses (and reports).
    const unstyled = html.replace(/\sstyle\s*=/gi, " data-pasted-style=");
    const source = new DOMParser().parseFromString(unstyled, "text/html");
    const container = document.createElement("div");
    for (const child of source.body.childNodes) {
      const cleaned = cleanNode(child, document);
      if (cleaned) container.appendChild(cleaned);
    }
    return container.innerHTML;
  }

  function textToHtml(text) {
    const container = document.createElement("div");
    for (const block of text.split(/\r?\n\s*\r?\n/)) {
      if (!block.trim()) continue;
      const paragraph = document.createElement("p");
      paragraph.textContent = block.replace(/\s*\r?\n\s*/g, " ").trim();
      container.appendChild(paragraph);
    }
    return container.innerHTML;
  }

  // --- The rich-text body editor ---

  // Inserted through the DOM: execCommand("insertHTML") would wrap the text in
  // spans with inline styles, which the Content-Security-Policy refuses.
  function insertAtCaret(surface, html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const last = template.content.lastChild;
    const selection = window.getSelection();
    if (!selection.rangeCount || !surface.contains(selection.anchorNode)) {
      surface.append(template.content);
      return;
    }
    const range = selection.getRangeAt(0);
    range.deleteContents();
    range.insertNode(template.content);
    if (last) {
      range.setStartAfter(last);
      range.collapse(true);
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  // --- Images: ask for alt text, upload, insert <img src alt> where the caret was ---

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function imageFiles(transfer) {
    return [...((transfer && transfer.files) || [])].filter((file) => file.type.startsWith("image/"));
  }

  function textIn(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content.textContent.trim();
  }

  function caretRange(surface) {
    const selection = window.getSelection();
    if (!selection.rangeCount || !surface.contains(selection.anchorNode)) return null;
    return selection.getRangeAt(0).cloneRange();
  }

  function restoreCaret(range) {
    if (!range) return;
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // The server checks the file by its content and answers JSON: {url, width, height,
  // alt, srcset, id}, or {error} with a message for people.
  async function uploadImage(form, file, alt) {
    const body = new FormData();
    body.append("file", file, file.name || "image");
    body.append("alt", alt);
    let response;
    try {
      response = await fetch(form.dataset.upload, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
    } catch (error) {
      throw new Error("the connection failed. Try again.");
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      /* not JSON: the status says it */
    }
    if (!response.ok || !answer || !answer.url) {
      throw new Error((answer && answer.error) || `the server answered ${response.status}.`);
    }
    return answer;
  }

  async function addImages(surface, files, range) {
    const form = surface.closest("form");
    if (!form || !form.dataset.upload) return;
    for (const file of files) {
      const named = file.name && file.name !== "image.png" ? ` “${file.name}”` : "";
      const alt = window.prompt(
        `Describe the image${named} for readers who cannot see it (alt text; needed before publishing):`, "");
      if (alt === null) {
        setStatus(form, "Image not added.");
        continue;
      }
      setStatus(form, "Uploading the image…");
      try {
        const image = await uploadImage(form, file, alt.trim());
        const element = document.createElement("img");
        element.setAttribute("src", image.url);
        element.setAttribute("alt", alt.trim());
        restoreCaret(range);
        insertAtCaret(surface, element.outerHTML);
        range = caretRange(surface);
        surface.dispatchEvent(new Event("input", { bubbles: true }));
        setStatus(form, alt.trim() ? "Image added." : "Image added without alt text: describe it before publishing.");
      } catch (error) {
        setStatus(form, `Image not added: ${error.message}`);
      }
    }
  }

  function addImagePicker(surface) {
    const picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/jpeg,image/png,image/webp,image/gif";
    picker.multiple = true;
    picker.hidden = true;
    let range = null;
    picker.addEventListener("change", () => {
      const files = [...picker.files];
      picker.value = "";
      addImages(surface, files, range);
    });
    surface.pickImage = () => {
      range = caretRange(surface);
      picker.click();
    };
    return picker;
  }

  const TOOLBAR = [
    ["Paragraph", "P", () => document.execCommand("formatBlock", false, "p")],
    ["Heading", "H", () => document.execCommand("formatBlock", false, "h2")],
    ["Bold", "B", () => document.execCommand("bold")],
    ["Italic", "I", () => document.execCommand("italic")],
    ["Link", "Link", () => {
      const url = window.prompt("Link address (https://…)", "https://");
      if (url === null) return;
      if (SAFE_URL.test(url.trim())) document.execCommand("createLink", false, url.trim());
      else window.alert("Links must start with https://, http://, mailto: or /");
    }],
    ["Bulleted list", "•", () => document.execCommand("insertUnorderedList")],
    ["Numbered list", "1.", () => document.execCommand("insertOrderedList")],
    ["Quote", "“”", () => document.execCommand("formatBlock", false, "blockquote")],
    ["Image", "Image", (surface) => surface.pickImage()],
  ];

  function makeRichEditor(textarea) {
    const wrapper = document.createElement("div");
    wrapper.className = "rich-editor";
    const toolbar = document.createElement("div");
    toolbar.className = "rich-toolbar";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", "Formatting");
    const surface = document.createElement("div");
    surface.className = "rich-surface article-body";
    surface.contentEditable = "true";
    surface.setAttribute("role", "textbox");
    surface.setAttribute("aria-multiline", "true");
    surface.setAttribute("aria-labelledby", `${textarea.id}-label`);
    for (const name of ["aria-invalid", "aria-describedby"]) {
      if (textarea.hasAttribute(name)) surface.setAttribute(name, textarea.getAttribute(name));
    }
    surface.innerHTML = textarea.value;
    for (const [label, text, command] of TOOLBAR) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text;
      button.title = label;
      button.setAttribute("aria-label", label);
      button.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
      button.addEventListener("click", () => {
        surface.focus();
        command(surface);
        sync();
      });
      toolbar.appendChild(button);
    }
    function sync() {
      textarea.value = surface.innerHTML;
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    surface.addEventListener("input", sync);
    surface.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      if (!data) return;
      event.preventDefault();
      const html = data.getData("text/html");
      const cleaned = html ? cleanHtml(html) : "";
      // A copied picture comes as a file; a word processor's text may bring a picture of
      // itself along: text wins, and its images are dropped like every pasted <img>.
      const images = imageFiles(data);
      if (images.length && !textIn(cleaned)) {
        addImages(surface, images, caretRange(surface));
        return;
      }
      insertAtCaret(surface, html ? cleaned : textToHtml(data.getData("text/plain")));
      sync();
    });
    surface.addEventListener("dragover", (event) => {
      if (event.dataTransfer && [...event.dataTransfer.types].includes("Files")) event.preventDefault();
    });
    surface.addEventListener("drop", (event) => {
      // Dropped image files are uploaded; dropped markup is cleaned like a paste.
      const images = imageFiles(event.dataTransfer);
      if (images.length) {
        event.preventDefault();
        const range = document.caretRangeFromPoint && document.caretRangeFromPoint(event.clientX, event.clientY);
        addImages(surface, images, range && surface.contains(range.startContainer) ? range : caretRange(surface));
        return;
      }
      const html = event.dataTransfer && event.dataTransfer.getData("text/html");
      if (!html) return;
      event.preventDefault();
      insertAtCaret(surface, cleanHtml(html));
      sync();
    });
    textarea.hidden = true;
    wrapper.append(toolbar, surface, addImagePicker(surface));
    textarea.after(wrapper);
    textarea.richSurface = surface;
    return surface;
  }

  // --- Unsaved copies in localStorage ---

  function storageKey(form) {
    return `${STORAGE_PREFIX}${form.dataset.article}:${form.dataset.field}`;
  }

  function fieldInput(form) {
    return form.querySelector(`[name="${form.dataset.field}"]:not([type="hidden"])`);
  }

  function valueOf(input) {
    return input.type === "checkbox" ? String(input.checked) : input.value;
  }

  function setValue(input, value) {
    if (input.type === "checkbox") input.checked = value === "true";
    else input.value = value;
    if (input.richSurface) input.richSurface.innerHTML = value;
  }

  function saveCopy(form) {
    const input = fieldInput(form);
    if (!input || form.dataset.cancelled) return;
    const copy = {
      value: valueOf(input),
      version: form.querySelector('input[name="version"]').value,
      at: new Date().toISOString(),
    };
    try {
      localStorage.setItem(storageKey(form), JSON.stringify(copy));
    } catch (error) {
      setStatus(form, "This browser could not keep a copy: save soon.");
    }
  }

  function dropCopy(form) {
    try {
      localStorage.removeItem(storageKey(form));
    } catch (error) {
      /* storage unavailable: nothing was kept */
    }
  }

  function storedCopy(form) {
    try {
      return JSON.parse(localStorage.getItem(storageKey(form)) || "null");
    } catch (error) {
      return null;
    }
  }

  function offerCopy(form) {
    const input = fieldInput(form);
    const copy = storedCopy(form);
    if (!input || !copy || copy.value === valueOf(input)) return;
    const offer = document.createElement("div");
    offer.className = "unsaved-offer";
    offer.setAttribute("role", "alert");
    const when = new Date(copy.at).toLocaleString();
    offer.append(`This browser kept changes you did not save (${when}). `);
    const restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = "Restore them";
    restore.addEventListener("click", () => {
      setValue(input, copy.value);
      // Saved against the version they were made from: if the article moved on
      // since, the server answers with a conflict to merge, never an overwrite.
      form.querySelector('input[name="version"]').value = copy.version;
      offer.remove();
    });
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "secondary";
    discard.textContent = "Discard";
    discard.addEventListener("click", () => {
      dropCopy(form);
      offer.remove();
    });
    offer.append(restore, " ", discard);
    form.prepend(offer);
  }

  // --- Editors appear (htmx swaps them in) ---

  function setStatus(form, message) {
    const status = form.querySelector(".editor-status");
    if (status) status.textContent = message;
  }

  // The lead-image field: choosing an upload shows its alt text; a new file is uploaded
  // at once and chosen. Saving the field sets it, as every field saves.
  function setUpLeadImage(form) {
    const select = form.querySelector('select[name="lead_image"]');
    const alt = form.querySelector('input[name="lead_image_alt"]');
    const file = form.querySelector("input.image-file");
    if (!select || !alt || !file) return;
    select.addEventListener("change", () => {
      const option = select.selectedOptions[0];
      alt.value = (option && option.dataset.alt) || "";
    });
    file.addEventListener("change", async () => {
      const chosen = file.files[0];
      if (!chosen) return;
      setStatus(form, "Uploading the image…");
      try {
        const image = await uploadImage(form, chosen, alt.value.trim());
        let option = [...select.options].find((each) => each.value === String(image.id));
        if (!option) {
          const label = `${image.alt || "New image"} (${image.width}×${image.height})`;
          option = new Option(label, String(image.id));
          select.add(option, 1);
        }
        option.dataset.alt = image.alt;
        select.value = String(image.id);
        if (!alt.value.trim()) alt.value = image.alt;
        select.dispatchEvent(new Event("input", { bubbles: true }));
        setStatus(form, "Uploaded. Save to make it the lead image.");
      } catch (error) {
        setStatus(form, `Not uploaded: ${error.message}`);
      }
      file.value = "";
    });
  }

  function setUpEditor(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    const input = fieldInput(form);
    if (!input) return;
    const surface = input.dataset.rich ? makeRichEditor(input) : null;
    if (form.dataset.field === "lead_image") setUpLeadImage(form);
    // A conflict or an error answer carries the typed text: keep the local copy current.
    if (form.querySelector(".conflict, .errors")) saveCopy(form);
    else offerCopy(form);
    form.addEventListener("input", () => saveCopy(form));
    form.addEventListener("change", () => saveCopy(form));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        form.dataset.cancelled = "1"; // the swap fires a last "change": keep no copy
        dropCopy(form);
        form.querySelector("button.cancel").click();
      } else if (event.key === "Enter" && event.target.tagName === "TEXTAREA" && !input.dataset.rich) {
        event.preventDefault(); // the lead is one paragraph: Enter saves
        form.requestSubmit();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    // A refused save comes back with its field marked: the focus goes there.
    const refused = form.querySelector('[aria-invalid="true"]:not([hidden])');
    (refused || surface || input).focus();
  }

  function readVersion(root) {
    const holder = root.matches && root.matches("[data-version]") ? root : null;
    return holder ? Number(holder.dataset.version) : null;
  }

  // The version moved from `knownVersion` to `version` through this page's own save:
  // forms opened before it are still up to date with everything but that save.
  // A jump of more than one means someone else saved too: forms stay as they are.
  function followVersion(version) {
    if (version === null || knownVersion === null || version <= knownVersion) return;
    if (version === knownVersion + 1) {
      for (const input of document.querySelectorAll('input[name="version"]')) {
        if (input.value === String(knownVersion)) input.value = String(version);
      }
    }
    knownVersion = version;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const panel = document.getElementById("article-status");
    if (panel) knownVersion = Number(panel.dataset.version);
  });

  document.addEventListener("htmx:load", (event) => {
    const element = event.detail.elt;
    if (element.matches && element.matches("form.field-editor")) setUpEditor(element);
    followVersion(readVersion(element));
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form.field-editor");
    if (form && event.detail.requestConfig.verb === "post") setStatus(form, "Saving…");
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form.field-editor");
    if (form && event.detail.successful && event.detail.requestConfig.verb === "post") {
      dropCopy(form);
    }
  });

  function saveFailed(event, message) {
    const form = event.detail.elt.closest && event.detail.elt.closest("form.field-editor");
    if (form) {
      saveCopy(form);
      setStatus(form, message);
    }
  }

  document.addEventListener("htmx:sendError", (event) =>
    saveFailed(event, "Not saved: the connection failed. Your text is kept here and in this browser; try Save again."));
  document.addEventListener("htmx:responseError", (event) =>
    saveFailed(event, `Not saved: the server answered ${event.detail.xhr.status}. Your text is kept; try again.`));

  window.addEventListener("beforeunload", (event) => {
    for (const form of document.querySelectorAll("form.field-editor")) {
      const input = fieldInput(form);
      const copy = input && storedCopy(form);
      if (copy && copy.value === valueOf(input)) {
        event.preventDefault(); // an editor is still open with changes
        return;
      }
    }
  });
})();
