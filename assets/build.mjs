// Bundles assets/main.js and assets/main.css into src/sogla/web/static/sogla/dist/.
// Fonts referenced by the CSS (bootstrap-icons) are copied into dist/fonts/.
import { build } from "esbuild";
import { cpSync, rmSync } from "node:fs";

const outdir = "src/sogla/web/static/sogla/dist";
rmSync(outdir, { recursive: true, force: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  logLevel: "info",
  legalComments: "none",
};

await build({
  ...common,
  entryPoints: { app: "assets/main.js" },
  format: "iife",
  outdir,
});

// The card's viewer (loaded by the card only) and pdf.js itself, copied as shipped:
// the library and its worker are ES modules the viewer imports at run time, with
// the character maps, standard fonts, decoders and colour profiles next to them.
await build({
  ...common,
  entryPoints: { viewer: "assets/viewer.js" },
  format: "iife",
  outdir,
});
// The route builder's script, loaded by the builder page only.
await build({
  ...common,
  entryPoints: { builder: "assets/builder.js" },
  format: "iife",
  outdir,
});
const pdfjs = "node_modules/pdfjs-dist";
for (const file of ["build/pdf.min.mjs", "build/pdf.worker.min.mjs"]) {
  cpSync(`${pdfjs}/${file}`, `${outdir}/pdfjs/${file.split("/").pop()}`);
}
for (const dir of ["cmaps", "standard_fonts", "wasm", "iccs"]) {
  cpSync(`${pdfjs}/${dir}`, `${outdir}/pdfjs/${dir}`, { recursive: true });
}
cpSync(`${pdfjs}/LICENSE`, `${outdir}/pdfjs/LICENSE`);

await build({
  ...common,
  entryPoints: { app: "assets/main.css" },
  outdir,
  assetNames: "fonts/[name]",
  loader: { ".woff": "file", ".woff2": "file" },
});

// Keep only the CSS the templates, Python forms and scripts can use (UI budget:
// CSS <= 30 KB gzip). Classes built at run time are listed in the safelist.
const { PurgeCSS } = await import("purgecss");
const { readFileSync, writeFileSync } = await import("node:fs");
const cssFile = `${outdir}/app.css`;
const [purged] = await new PurgeCSS().purge({
  content: [
    "src/sogla/**/templates/**/*.html",
    "src/sogla/**/*.py",
    "assets/main.js",
    "assets/mentions.js",
    "assets/viewer.js",
    "assets/builder.js",
    "node_modules/bootstrap/js/dist/{dropdown,collapse,modal,tab,base-component}.js",
  ],
  css: [{ raw: readFileSync(cssFile, "utf8") }],
  fontFace: false,
  keyframes: false,
  variables: false,
  safelist: {
    standard: [/^status-/, /^token-/, /^tree-depth-/, /^btn-/, /^alert-/, /^text-bg-/, /^htmx-/, /^is-/,
      "show", "fade", "collapsing", "collapse", "active", "disabled", "modal-open",
      "modal-backdrop", "dropdown-menu-end", "was-validated", "visually-hidden-focusable"],
    deep: [/^dropdown/, /^modal/, /^offcanvas/, /^tooltip/],
    greedy: [/data-bs-theme/, /data-bs-popper/],
  },
});
writeFileSync(cssFile, purged.css);
console.log(`  ${cssFile} purged to ${(purged.css.length / 1024).toFixed(1)}kb`);
