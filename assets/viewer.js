// The card's document viewer: pdf.js (bundled from npm, served from our static
// files) renders the preview PDF from bytes fetched with the session cookie. Pages
// are placeholders until they scroll into view (lazy, page by page); zoom, a page
// field, a thumbnail strip and a search in the text. No annotation layer, no
// scripting: a PDF never runs anything and never becomes a document of our origin.

const ZOOM_STEP = 1.25;
const MIN_SCALE = 0.25;
const MAX_SCALE = 5;
const THUMB_WIDTH = 96;
let pdfjsLoading = null;

function loadPdfjs(body) {
  if (!pdfjsLoading) {
    pdfjsLoading = import(body.dataset.pdfjs).then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = body.dataset.worker;
      return lib;
    });
  }
  return pdfjsLoading;
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

class Viewer {
  constructor(section, body, lib, pdf) {
    this.section = section;
    this.body = body;
    this.lib = lib;
    this.pdf = pdf;
    this.pagesBox = body.querySelector(".viewer-pages");
    this.thumbsBox = body.querySelector(".viewer-thumbs");
    this.pageInput = section.querySelector("[data-viewer-page]");
    this.zoomOut = section.querySelector("[data-viewer-zoom]");
    this.found = section.querySelector("[data-viewer-found]");
    this.count = pdf.numPages;
    this.pageCache = new Map();
    this.textCache = new Map();
    this.rendered = new Map(); // page number -> scale rendered at
    this.matches = [];
    this.matchAt = -1;
    this.query = "";
    this.scale = 1;
    this.baseWidth = 0;
    this.baseHeight = 0;
  }

  page(number) {
    if (!this.pageCache.has(number)) this.pageCache.set(number, this.pdf.getPage(number));
    return this.pageCache.get(number);
  }

  async start() {
    const first = await this.page(1);
    const viewport = first.getViewport({ scale: 1 });
    this.baseWidth = viewport.width;
    this.baseHeight = viewport.height;
    this.pagesBox.replaceChildren();
    this.slots = [];
    for (let n = 1; n <= this.count; n += 1) {
      const slot = document.createElement("div");
      slot.className = "viewer-page";
      slot.dataset.page = String(n);
      slot.setAttribute("role", "img");
      slot.setAttribute("aria-label", `${this.body.dataset.tPage} ${n}`);
      this.pagesBox.append(slot);
      this.slots.push(slot);
    }
    this.observer = new IntersectionObserver((entries) => this.onVisible(entries), {
      root: this.pagesBox,
      rootMargin: "300px 0px",
    });
    if (window.matchMedia("(max-width: 575.98px)").matches) this.toggleThumbs(false);
    this.fitWidth();
    this.buildThumbs();
    this.pagesBox.addEventListener("scroll", () => this.trackPage(), { passive: true });
    this.section.addEventListener("click", (event) => this.onAction(event));
    this.pageInput?.addEventListener("change", () => this.goTo(Number(this.pageInput.value)));
    this.section.querySelector("[data-viewer-search]")?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search(event.target.querySelector("input").value);
    });
    this.section.dataset.viewerReady = "1";
  }

  fitWidth() {
    const width = this.pagesBox.clientWidth - 24;
    this.setScale(width > 0 ? width / this.baseWidth : 1);
  }

  setScale(scale) {
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    if (this.zoomOut) this.zoomOut.textContent = `${Math.round(this.scale * 100)}%`;
    const current = this.currentPage || 1;
    for (const slot of this.slots) {
      const ratio = Number(slot.dataset.ratio || this.baseHeight / this.baseWidth);
      slot.style.width = `${Math.floor(this.baseWidth * this.scale)}px`;
      slot.style.height = `${Math.floor(this.baseWidth * this.scale * ratio)}px`;
      this.observer.unobserve(slot);
      this.observer.observe(slot);
    }
    this.rendered.clear();
    this.goTo(current, false);
  }

  onVisible(entries) {
    for (const entry of entries) {
      if (entry.isIntersecting) this.render(Number(entry.target.dataset.page));
    }
  }

  async render(number) {
    if (this.rendered.get(number) === this.scale) return;
    const scale = this.scale;
    this.rendered.set(number, scale);
    const slot = this.slots[number - 1];
    const page = await this.page(number);
    const viewport = page.getViewport({ scale });
    slot.dataset.ratio = String(viewport.height / viewport.width);
    slot.style.width = `${Math.floor(viewport.width)}px`;
    slot.style.height = `${Math.floor(viewport.height)}px`;
    const ratio = window.devicePixelRatio || 1;
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    await page.render({
      canvasContext: canvas.getContext("2d"),
      canvas,
      viewport,
      transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
    }).promise;
    if (this.rendered.get(number) !== scale) return; // zoomed meanwhile
    slot.replaceChildren(canvas);
    slot.dataset.rendered = "1";
    this.drawMatches(number);
  }

  buildThumbs() {
    if (!this.thumbsBox) return;
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          observer.unobserve(entry.target);
          this.renderThumb(entry.target);
        }
      },
      { root: this.thumbsBox, rootMargin: "200px 0px" },
    );
    const height = Math.round((THUMB_WIDTH * this.baseHeight) / this.baseWidth);
    for (let n = 1; n <= this.count; n += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "viewer-thumb";
      button.dataset.viewerGoto = String(n);
      button.style.height = `${height}px`;
      button.setAttribute("aria-label", `${this.body.dataset.tPage} ${n}`);
      const label = document.createElement("span");
      label.className = "viewer-thumb-number";
      label.textContent = String(n);
      button.append(label);
      this.thumbsBox.append(button);
      observer.observe(button);
    }
    this.markThumb(1);
  }

  async renderThumb(button) {
    const page = await this.page(Number(button.dataset.viewerGoto));
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: THUMB_WIDTH / base.width });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    await page.render({ canvasContext: canvas.getContext("2d"), canvas, viewport }).promise;
    button.style.height = "";
    button.prepend(canvas);
  }

  markThumb(number) {
    if (!this.thumbsBox) return;
    for (const thumb of this.thumbsBox.querySelectorAll(".viewer-thumb")) {
      const on = Number(thumb.dataset.viewerGoto) === number;
      thumb.classList.toggle("active", on);
      if (on) thumb.setAttribute("aria-current", "page");
      else thumb.removeAttribute("aria-current");
    }
  }

  toggleThumbs(show) {
    const button = this.section.querySelector('[data-viewer-action="thumbs"]');
    const visible = show ?? !this.body.classList.contains("thumbs-shown");
    this.body.classList.toggle("thumbs-shown", visible);
    this.body.classList.toggle("thumbs-hidden", !visible);
    if (button) button.setAttribute("aria-pressed", visible ? "true" : "false");
  }

  trackPage() {
    if (this.tracking) return;
    this.tracking = true;
    window.requestAnimationFrame(() => {
      this.tracking = false;
      const top = this.pagesBox.scrollTop + this.pagesBox.clientHeight / 3;
      let number = 1;
      for (const slot of this.slots) {
        if (slot.offsetTop <= top) number = Number(slot.dataset.page);
        else break;
      }
      if (number !== this.currentPage) {
        this.currentPage = number;
        if (this.pageInput) this.pageInput.value = String(number);
        this.markThumb(number);
      }
    });
  }

  goTo(number, smooth = true) {
    const target = Math.min(this.count, Math.max(1, Math.round(number) || 1));
    const slot = this.slots[target - 1];
    this.pagesBox.scrollTo({
      top: slot.offsetTop - 8,
      behavior: smooth ? "smooth" : "auto",
    });
    this.currentPage = target;
    if (this.pageInput) this.pageInput.value = String(target);
    this.markThumb(target);
    this.render(target);
  }

  onAction(event) {
    const goto = event.target.closest("[data-viewer-goto]");
    if (goto) {
      this.goTo(Number(goto.dataset.viewerGoto));
      return;
    }
    const button = event.target.closest("[data-viewer-action]");
    if (!button) return;
    const action = button.dataset.viewerAction;
    if (action === "prev") this.goTo((this.currentPage || 1) - 1);
    else if (action === "next") this.goTo((this.currentPage || 1) + 1);
    else if (action === "zoom-in") this.setScale(this.scale * ZOOM_STEP);
    else if (action === "zoom-out") this.setScale(this.scale / ZOOM_STEP);
    else if (action === "fit") this.fitWidth();
    else if (action === "thumbs") this.toggleThumbs();
  }

  async pageText(number) {
    if (!this.textCache.has(number)) {
      const page = await this.page(number);
      this.textCache.set(number, (await page.getTextContent()).items);
    }
    return this.textCache.get(number);
  }

  async search(raw) {
    const query = raw.trim().toLocaleLowerCase();
    if (query && query === this.query && this.matches.length) {
      this.showMatch((this.matchAt + 1) % this.matches.length);
      return;
    }
    this.query = query;
    this.matches = [];
    this.matchAt = -1;
    for (const slot of this.slots) slot.querySelectorAll(".viewer-hit").forEach((el) => el.remove());
    if (!query) {
      this.found.textContent = "";
      return;
    }
    for (let n = 1; n <= this.count; n += 1) {
      const items = await this.pageText(n);
      items.forEach((item, index) => {
        const text = (item.str || "").toLocaleLowerCase();
        let at = text.indexOf(query);
        while (at >= 0) {
          this.matches.push({ page: n, index, at, length: query.length });
          at = text.indexOf(query, at + query.length);
        }
      });
    }
    if (!this.matches.length) {
      this.found.textContent = this.body.dataset.tNone;
      return;
    }
    for (let n = 1; n <= this.count; n += 1) this.drawMatches(n);
    this.showMatch(0);
  }

  showMatch(index) {
    this.matchAt = index;
    const match = this.matches[index];
    this.found.textContent = format(this.body.dataset.tFound, {
      n: index + 1,
      total: this.matches.length,
    });
    this.goTo(match.page);
    this.drawMatches(match.page);
  }

  async drawMatches(number) {
    const slot = this.slots[number - 1];
    if (!slot || !slot.dataset.rendered) return;
    slot.querySelectorAll(".viewer-hit").forEach((el) => el.remove());
    const hits = this.matches.filter((m) => m.page === number);
    if (!hits.length) return;
    const page = await this.page(number);
    const viewport = page.getViewport({ scale: this.scale });
    const items = await this.pageText(number);
    for (const hit of hits) {
      const item = items[hit.index];
      const box = this.lib.Util.transform(viewport.transform, item.transform);
      const height = Math.hypot(box[2], box[3]);
      const width = item.width * this.scale;
      const length = Math.max(1, item.str.length);
      const mark = document.createElement("span");
      mark.className = "viewer-hit";
      if (this.matches[this.matchAt] === hit) mark.classList.add("current");
      mark.style.left = `${box[4] + (width * hit.at) / length}px`;
      mark.style.top = `${box[5] - height}px`;
      mark.style.width = `${Math.max(4, (width * hit.length) / length)}px`;
      mark.style.height = `${height * 1.15}px`;
      slot.append(mark);
    }
  }
}

async function openViewer(body) {
  if (body.dataset.viewerStarted) return;
  body.dataset.viewerStarted = "1";
  const section = body.closest(".doc-viewer");
  const fail = (error) => {
    const note = document.createElement("p");
    note.className = "viewer-note p-3 m-0";
    note.setAttribute("role", "alert");
    note.textContent = body.dataset.tError;
    body.querySelector(".viewer-pages").replaceChildren(note);
    section.dataset.viewerError = String(error && error.message ? error.message : error);
  };
  try {
    const lib = await loadPdfjs(body);
    const response = await fetch(body.dataset.src, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = new Uint8Array(await response.arrayBuffer());
    const assets = body.dataset.assets;
    const pdf = await lib.getDocument({
      data,
      cMapUrl: `${assets}cmaps/`,
      cMapPacked: true,
      standardFontDataUrl: `${assets}standard_fonts/`,
      wasmUrl: `${assets}wasm/`,
      iccUrl: `${assets}iccs/`,
      isEvalSupported: false,
      enableXfa: false,
    }).promise;
    const viewer = new Viewer(section, body, lib, pdf);
    await viewer.start();
  } catch (error) {
    fail(error);
  }
}

function scan(root) {
  root.querySelectorAll?.("[data-viewer]").forEach((body) => openViewer(body));
}

document.addEventListener("DOMContentLoaded", () => scan(document));
document.addEventListener("htmx:load", (event) => scan(event.detail.elt.parentNode || document));
