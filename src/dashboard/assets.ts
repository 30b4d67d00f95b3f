// The dashboard's and Swagger UI's files, embedded in the single binary by `bun build --compile`
// (each import is the file's path, inside the executable once compiled) and served from there:
// nothing is fetched from outside the service, so both work on an offline server.
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import api from "./assets/api.client.js" with { type: "file" };
import app from "./assets/app.client.js" with { type: "file" };
import chart from "./assets/chart.client.js" with { type: "file" };
import index from "./assets/index.html" with { type: "file" };
import journalPage from "./assets/journal-page.client.js" with { type: "file" };
import leadsPages from "./assets/leads-pages.client.js" with { type: "file" };
import opsPages from "./assets/ops-pages.client.js" with { type: "file" };
import postbacksPage from "./assets/postbacks-page.client.js" with { type: "file" };
import quality from "./assets/quality.client.js" with { type: "file" };
import insightsPages from "./assets/insights-pages.client.js" with { type: "file" };
import statsPages from "./assets/stats-pages.client.js" with { type: "file" };
import style from "./assets/style.css" with { type: "file" };
import swaggerInit from "./assets/swagger-init.client.js" with { type: "file" };
import swaggerHtml from "./assets/swagger.html" with { type: "file" };
import tracePage from "./assets/trace-page.client.js" with { type: "file" };
import ui from "./assets/ui.client.js" with { type: "file" };

export interface Asset {
  path: string;
  type: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const HTML = "text/html; charset=utf-8";

// bun-types declares every *.html import as an HTML bundle; with type "file" it is the path.
const htmlPath = (imported: unknown) => imported as string;

export const DASHBOARD_PAGE: Asset = { path: htmlPath(index), type: HTML };

/** Served as /dashboard/assets/NAME; the modules import each other by these names. */
export const DASHBOARD_ASSETS: Record<string, Asset> = {
  "app.client.js": { path: app, type: JS },
  "api.client.js": { path: api, type: JS },
  "ui.client.js": { path: ui, type: JS },
  "chart.client.js": { path: chart, type: JS },
  "stats-pages.client.js": { path: statsPages, type: JS },
  "ops-pages.client.js": { path: opsPages, type: JS },
  "postbacks-page.client.js": { path: postbacksPage, type: JS },
  "leads-pages.client.js": { path: leadsPages, type: JS },
  "trace-page.client.js": { path: tracePage, type: JS },
  "journal-page.client.js": { path: journalPage, type: JS },
  "quality.client.js": { path: quality, type: JS },
  "insights-pages.client.js": { path: insightsPages, type: JS },
  "style.css": { path: style, type: CSS },
};

export const SWAGGER_PAGE: Asset = { path: htmlPath(swaggerHtml), type: HTML };

export const SWAGGER_ASSETS: Record<string, Asset> = {
  "swagger-ui-bundle.js": { path: swaggerBundle, type: JS },
  "swagger-ui.css": { path: swaggerCss, type: CSS },
  "swagger-init.js": { path: swaggerInit, type: JS },
};
