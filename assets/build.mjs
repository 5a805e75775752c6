// Bundles assets/main.js and assets/main.css into src/sogla/web/static/sogla/dist/.
// Fonts referenced by the CSS (bootstrap-icons) are copied into dist/fonts/.
import { build } from "esbuild";
import { rmSync } from "node:fs";

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

await build({
  ...common,
  entryPoints: { app: "assets/main.css" },
  outdir,
  assetNames: "fonts/[name]",
  loader: { ".woff": "file", ".woff2": "file" },
});
