// Sogla front-end: htmx + the Bootstrap components we use, and small behaviours
// wired through data-* attributes (the CSP forbids inline scripts and handlers).
import htmx from "htmx.org";
import Collapse from "bootstrap/js/src/collapse.js";
import Dropdown from "bootstrap/js/src/dropdown.js";
import Offcanvas from "bootstrap/js/src/offcanvas.js";
import "./mentions.js";

window.htmx = htmx;
void Collapse;
void Dropdown;
void Offcanvas;

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRFToken"] = csrfToken();
});

// Copy buttons: <button data-copy="D-2025-00001">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = button.getAttribute("data-copy");
  const done = () => {
    const status = button.querySelector("[data-copy-status]");
    if (status) {
      status.textContent = button.getAttribute("data-copied") || "Copied";
      window.setTimeout(() => {
        status.textContent = "";
      }, 2000);
    }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => {});
  } else {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try {
      document.execCommand("copy");
      done();
    } finally {
      area.remove();
    }
  }
});

// Forms that ask first: <form data-confirm="Archive this document?">.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// Selects that submit their form on change (language switch, filters without htmx).
document.addEventListener("change", (event) => {
  const el = event.target.closest("[data-autosubmit]");
  if (el && el.form) {
    if (el.form.requestSubmit) el.form.requestSubmit();
    else el.form.submit();
  }
});

// Counterparty combobox ---------------------------------------------------------
function combobox(el) {
  return el.closest("[data-combobox]");
}

document.addEventListener("click", (event) => {
  const option = event.target.closest("[data-cp-pick]");
  if (option) {
    event.preventDefault();
    const box = combobox(option);
    box.querySelector("[data-cp-value]").value = option.getAttribute("data-id");
    const input = box.querySelector("[data-cp-input]");
    input.value = option.getAttribute("data-name");
    box.querySelector("[data-cp-options]").replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.focus();
    return;
  }
  const open = event.target.closest("[data-cp-open-create]");
  if (open) {
    event.preventDefault();
    const box = combobox(open);
    const panel = box.querySelector("[data-cp-create]");
    panel.hidden = false;
    const name = panel.querySelector("[data-cp-create-name]");
    name.value = box.querySelector("[data-cp-input]").value;
    box.querySelector("[data-cp-options]").replaceChildren();
    name.focus();
    return;
  }
  const cancel = event.target.closest("[data-cp-cancel]");
  if (cancel) {
    event.preventDefault();
    const box = combobox(cancel);
    box.querySelector("[data-cp-create]").hidden = true;
    box.querySelector("[data-cp-input]").focus();
  }
});

// Typing in the combobox clears the chosen id until an option is picked again.
document.addEventListener("input", (event) => {
  const input = event.target.closest("[data-cp-input]");
  if (!input) return;
  const box = combobox(input);
  box.querySelector("[data-cp-value]").value = "";
  input.setAttribute("aria-expanded", "true");
  input.removeAttribute("aria-activedescendant"); // the list is about to change
});

// Keyboard (WAI-ARIA combobox with a listbox): focus stays in the input; Up/Down
// move the active option (aria-activedescendant, aria-selected), Enter picks it
// (or opens «Create»), Escape closes the list.
function cpOptions(box) {
  return [...box.querySelectorAll("[data-cp-options] [role=option]")];
}

document.addEventListener("keydown", (event) => {
  if (!["ArrowDown", "ArrowUp", "Escape", "Enter"].includes(event.key)) return;
  const input = event.target.closest("[data-cp-input]");
  if (!input) return;
  const box = combobox(input);
  const list = box.querySelector("[data-cp-options]");
  const options = cpOptions(box);
  const at = options.findIndex((option) => option.getAttribute("aria-selected") === "true");
  if (event.key === "Escape") {
    if (!options.length) return;
    event.preventDefault();
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    return;
  }
  if (event.key === "Enter") {
    if (!options.length) return;
    event.preventDefault(); // never submit the page from an open list
    if (at >= 0) {
      input.removeAttribute("aria-activedescendant");
      options[at].querySelector("button").click();
    }
    return;
  }
  if (!options.length) return;
  event.preventDefault();
  input.setAttribute("aria-expanded", "true");
  const next = event.key === "ArrowDown" ? Math.min(at + 1, options.length - 1) : at - 1;
  options.forEach((option, index) => {
    if (!option.id) option.id = `${box.id}-option-${index}`;
    option.setAttribute("aria-selected", String(index === next));
  });
  if (next < 0) {
    input.removeAttribute("aria-activedescendant");
  } else {
    input.setAttribute("aria-activedescendant", options[next].id);
    options[next].scrollIntoView({ block: "nearest" });
  }
});

// Enter inside the mini form creates the counterparty instead of submitting the page.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const inside = event.target.closest("[data-cp-create]");
  if (inside && event.target.tagName === "INPUT") {
    event.preventDefault();
    inside.querySelector("[data-cp-submit]").click();
  }
});

// The error summary takes focus so screen readers announce it.
function focusSummary(root) {
  const summary = (root || document).querySelector("[data-error-summary]");
  if (summary) summary.focus();
}
document.addEventListener("DOMContentLoaded", () => focusSummary(document));
document.addEventListener("htmx:afterSettle", (event) => focusSummary(event.target));

// Approval -----------------------------------------------------------------------
// htmx swaps 409 and 422 answers too: they carry the card with the error in place.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "(409|422)", swap: true },
  { code: "[45]..", swap: false, error: true },
];

// The submit button repeats the chosen decision.
document.addEventListener("change", (event) => {
  const radio = event.target.closest("[data-decision-form] input[name=outcome]");
  if (!radio) return;
  const button = radio.form.querySelector("[data-submit-button]");
  if (button) {
    button.textContent = radio.getAttribute("data-submit-label").trim();
    button.classList.toggle("btn-danger", radio.value === "reject");
    button.classList.toggle("btn-primary", radio.value !== "reject");
  }
});

// A decision that needs a comment says so before anything else (before the reject
// dialog): the server checks it too, this only saves a round trip.
function commentMissing(form) {
  const choice = form.querySelector("input[name=outcome]:checked");
  const comment = form.querySelector("textarea[name=comment][data-required-message]");
  if (!choice || !choice.hasAttribute("data-needs-comment") || !comment) return false;
  if (comment.value.trim()) return false;
  let error = comment.parentElement.querySelector("[data-comment-error]");
  if (!error) {
    error = document.createElement("div");
    error.className = "invalid-feedback d-block";
    error.id = comment.id.replace("comment-", "comment-error-");
    error.setAttribute("data-comment-error", "");
    comment.after(error);
  }
  error.textContent = comment.getAttribute("data-required-message");
  comment.classList.add("is-invalid");
  comment.setAttribute("aria-invalid", "true");
  comment.setAttribute("aria-describedby", error.id);
  comment.focus();
  return true;
}

document.addEventListener(
  "submit",
  (event) => {
    const form = event.target.closest("form[data-decision-form]");
    if (form && commentMissing(form)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);

// Reject asks first, in a <dialog> that returns focus to the form.
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target.closest("form[data-reject-confirm]");
    if (!form || event.defaultPrevented) return;
    const choice = form.querySelector("input[name=outcome]:checked");
    if (!choice || choice.value !== "reject") return;
    if (form.dataset.confirmed === "1") {
      delete form.dataset.confirmed;
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    const dialog = document.getElementById(form.getAttribute("data-reject-confirm"));
    if (dialog && dialog.showModal) {
      dialog.showModal();
      const cancel = dialog.querySelector("[data-dialog-cancel]");
      if (cancel) cancel.focus();
    }
  },
  true,
);

document.addEventListener("click", (event) => {
  const confirm = event.target.closest("[data-dialog-confirm]");
  const cancel = event.target.closest("[data-dialog-cancel]");
  const button = confirm || cancel;
  if (!button) return;
  const dialog = button.closest("dialog");
  dialog.close();
  const form = document.querySelector(`form[data-reject-confirm="${dialog.id}"]`);
  if (confirm && form) {
    form.dataset.confirmed = "1";
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  } else if (form) {
    const first = form.querySelector("input[name=outcome]:checked");
    if (first) first.focus();
  }
});

// Inbox rows open the card (the link of the row's number) on click or Enter
// (links inside keep working).
function rowLink(row) {
  const link = row && row.querySelector("a.doc-number");
  return link ? link.href : null;
}
document.addEventListener("click", (event) => {
  const row = event.target.closest("tr.inbox-row");
  if (!row || event.target.closest("a, button, input, select, textarea, summary")) return;
  const href = rowLink(row);
  if (href) window.location.href = href;
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const row = event.target.closest("tr.inbox-row");
  const href = rowLink(row);
  if (row && event.target === row && href) window.location.href = href;
});

// Registry: on a phone each row is a card with the document's first-page thumbnail
// beside the title (main.css). The image is decorative (alt=""), so it is added
// here, to the cards only, rather than sent in every row of the page (UI.md's
// 60 KB): /documents/<id>/thumbnail.png beside the row's link /documents/<id>/.
const phoneCards = window.matchMedia("(max-width: 767.98px)");
function addThumbnails(root) {
  if (!phoneCards.matches) return;
  for (const cell of (root || document).querySelectorAll(".registry-table td:nth-child(2)")) {
    const link = cell.parentElement.querySelector("td:first-child > a");
    if (!link || cell.querySelector(":scope > img")) continue;
    const img = document.createElement("img");
    img.src = new URL("thumbnail.png", link.href).pathname;
    img.alt = "";
    img.loading = "lazy";
    cell.prepend(img);
  }
}
document.addEventListener("DOMContentLoaded", () => addThumbnails(document));
document.addEventListener("htmx:afterSettle", (event) => addThumbnails(event.target));
phoneCards.addEventListener("change", () => addThumbnails(document));

// Live parts ---------------------------------------------------------------------
// <body data-live-refresh="30"> re-reads the page every 30 s while it is visible and
// replaces each [data-live][id] element that changed (the card's route map, the
// inbox list, the task counters, the bell): overdue tasks turn red by themselves.
// It waits while the person works inside a live part (focus, an open <details>,
// a ticked checkbox).
function livePartsBusy(parts) {
  const active = document.activeElement;
  return parts.some(
    (part) =>
      (active && active !== document.body && part.contains(active)) ||
      part.querySelector("details[open], input[type=checkbox]:checked"),
  );
}

async function refreshLiveParts() {
  if (document.visibilityState !== "visible") return;
  const parts = Array.from(document.querySelectorAll("[data-live][id]"));
  if (!parts.length || livePartsBusy(parts)) return;
  let response;
  try {
    response = await fetch(window.location.href, {
      credentials: "same-origin",
      headers: { "X-Sogla-Live": "1" },
    });
  } catch {
    return; // offline for a moment: try again next time
  }
  if (!response.ok || response.redirected) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  if (livePartsBusy(parts)) return;
  for (const part of parts) {
    const next = fresh.getElementById(part.id);
    if (next && next.outerHTML !== part.outerHTML) {
      part.replaceWith(next);
      htmx.process(next);
    }
  }
}

const liveSeconds = Number(document.body.dataset.liveRefresh || 0);
if (liveSeconds > 0) {
  window.setInterval(refreshLiveParts, liveSeconds * 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshLiveParts();
  });
}

// Inbox keyboard triage (UI.md, screen 2) ---------------------------------------------
// j/k move between rows, x selects the row for a bulk decision, / goes to the search,
// Enter opens (the focused number link). Single keys act only outside inputs and can
// be switched off (remembered in this browser).
const KEYS_OFF = "sogla-keys-off";

function keysOn() {
  try {
    return window.localStorage.getItem(KEYS_OFF) !== "1";
  } catch {
    return true;
  }
}

function showKeysState() {
  for (const button of document.querySelectorAll("[data-keys-toggle]")) {
    button.textContent = button.getAttribute(keysOn() ? "data-on" : "data-off");
    button.setAttribute("aria-pressed", keysOn() ? "true" : "false");
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-keys-toggle]");
  if (!button) return;
  try {
    if (keysOn()) window.localStorage.setItem(KEYS_OFF, "1");
    else window.localStorage.removeItem(KEYS_OFF);
  } catch {
    /* private mode: stays as it is */
  }
  showKeysState();
});
document.addEventListener("DOMContentLoaded", showKeysState);
document.addEventListener("htmx:afterSettle", showKeysState);

document.addEventListener("keydown", (event) => {
  const table = document.querySelector("[data-inbox-keys]");
  if (!table || !keysOn() || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest("input, textarea, select, [contenteditable]")) return;
  const rows = Array.from(table.querySelectorAll("tr.inbox-row"));
  if (event.key === "/") {
    const search = document.getElementById("inbox-q");
    if (search) {
      event.preventDefault();
      search.focus();
    }
    return;
  }
  if (!rows.length || !["j", "k", "x"].includes(event.key)) return;
  let index = rows.findIndex((row) => row.classList.contains("is-current"));
  if (event.key === "x") {
    const box = index >= 0 ? rows[index].querySelector("input[type=checkbox]") : null;
    if (box) box.checked = !box.checked;
    return;
  }
  if (index >= 0) rows[index].classList.remove("is-current");
  index = event.key === "j" ? Math.min(index + 1, rows.length - 1) : Math.max(index - 1, 0);
  rows[index].classList.add("is-current");
  const link = rows[index].querySelector("a.doc-number");
  if (link) link.focus();
  event.preventDefault();
});

// Installable app (web/pwa.py): signed-in pages register the service worker, which
// caches the app shell and static files only; signed-out pages (sign-in, after
// sign-out) delete every cache, so the next person finds nothing of ours.
if ("serviceWorker" in navigator && window.isSecureContext) {
  const session = document.querySelector('meta[name="sogla-session"]');
  if (session && session.getAttribute("content") === "signed-in") {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  } else {
    navigator.serviceWorker.controller?.postMessage("sogla:clear");
    navigator.serviceWorker
      .getRegistrations()
      .then((registrations) => Promise.all(registrations.map((r) => r.unregister())))
      .then(() => (window.caches ? caches.keys() : []))
      .then((keys) => Promise.all(keys.map((key) => caches.delete(key))))
      .catch(() => {});
  }
}
