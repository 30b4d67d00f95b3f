// The click link's pages: the interstitial "Open in Telegram" page (for in-app browsers that block
// a redirect to t.me) and the plain refusal page. Written here, embedded in the binary, loading
// nothing from anywhere: no script at all, a style of its own, a CSP that says so.

/** No script, no external file; styles inline; nothing may frame it. */
export const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  // The click link's URL (with the ad's click ids) is not handed to t.me or anyone else.
  "referrer-policy": "no-referrer",
  // Every click is its own: a cached answer would give two visitors one token.
  "cache-control": "no-store",
} as const;

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

const STYLE = `body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6f8;color:#1d2530}
main{max-width:26rem;margin:12vh auto 0;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12);text-align:center}
h1{font-size:1.3rem;margin:0 0 .75rem}p{margin:.5rem 0}
a.open{display:block;margin:1.25rem 0 .75rem;padding:.9rem 1rem;border-radius:10px;background:#2a9ef1;color:#fff;font-weight:600;text-decoration:none}
a.alt{color:#2a7ab8;word-break:break-all}small{color:#5b6673}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

/** The deep link in both forms: t.me for every browser, tg:// for in-app browsers that will not leave for t.me. */
export const deepLinks = (username: string, payload: string) => ({
  https: `https://t.me/${username}?start=${payload}`,
  tg: `tg://resolve?domain=${username}&start=${payload}`,
});

/** "Open in Telegram": the tg:// link as the button, the t.me link beside it. */
export function openInTelegramPage(username: string, payload: string): string {
  const links = deepLinks(username, payload);
  return page("Open in Telegram", `<h1>Open in Telegram</h1><p>Tap the button to open <b>@${escapeHtml(username)}</b> in Telegram, then press <b>Start</b>.</p>`
    + `<a class="open" id="open-telegram" href="${escapeHtml(links.tg)}">Open in Telegram</a>`
    + `<p><small>Nothing happens? Open this link:</small><br><a class="alt" id="open-tme" href="${escapeHtml(links.https)}">${escapeHtml(links.https)}</a></p>`);
}

export function refusalPage(title: string, text: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}
