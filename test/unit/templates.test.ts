import { describe, expect, test } from "bun:test";
import {
  CLICK_MACROS, LEAD_MACROS, POSTBACK_MACROS, compileText, emptyTemplates, lacksClick, loneMacroParams, renderRequest, renderText, resolveTemplates, usesMacro,
  type EventTemplates, type JsonTemplate, type MacroValues, type Template,
} from "../../src/domain/templates.ts";
import { STATUSES } from "../../src/domain/status.ts";

const values = (over: Partial<MacroValues> = {}): MacroValues => ({
  ...Object.fromEntries(CLICK_MACROS.map((m) => [m, ""])) as Record<(typeof CLICK_MACROS)[number], string>,
  click: "c1", status: "approve", campaign: "spring", user: "1", lead: "42", subscriber: "777",
  username: "alice", chat: "-1001234567890", time: "1735689600", event: "9001", payout: "1.5", currency: "USD", quality: "65",
  ...over,
});

const getTemplate = (url: string, label = "t"): Template => ({ label, method: "GET", url: compileText(url) });

describe("compileText", () => {
  const KNOWN = ["click", "status", "campaign", "user", "lead", "subscriber", "username", "chat", "time", "event", "payout", "currency", "quality"];

  test("the lead macros are exactly the 12 of SPEC §3 (minus welcome-only {invite}) and {quality} of §10; the rest are the click macros of SPEC §9", () => {
    expect(([...LEAD_MACROS] as string[]).sort()).toEqual([...KNOWN].sort());
    expect([...POSTBACK_MACROS]).toEqual([...LEAD_MACROS, ...CLICK_MACROS]);
  });

  test.each(KNOWN)("accepts {%s} and renders it", (macro) => {
    const compiled = compileText(`https://t.example/pb?v={${macro}}`);
    const vals = values({ [macro]: `val_${macro}` } as Partial<MacroValues>);
    expect(renderText(compiled, vals)).toBe(`https://t.example/pb?v=val_${macro}`);
  });

  const refused: { name: string; source: string; unknown: string[] }[] = [
    { name: "a single unknown macro", source: "https://t.example/pb?c={clickid}", unknown: ["{clickid}"] },
    { name: "a typo next to known macros", source: "https://t.example/pb?c={click}&s={stauts}", unknown: ["{stauts}"] },
    { name: "several unknown macros, all listed", source: "https://t.example/{foo}?a={bar}&c={click}&b={baz}", unknown: ["{foo}", "{bar}", "{baz}"] },
    { name: "{invite} (welcome only) in a postback", source: "https://t.example/pb?i={invite}", unknown: ["{invite}"] },
    { name: "macros are case-sensitive", source: "https://t.example/pb?c={Click}", unknown: ["{Click}"] },
  ];
  test.each(refused)("refuses $name", ({ source, unknown }) => {
    let message = "";
    try {
      compileText(source);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("unknown macro");
    for (const name of unknown) expect(message).toContain(name);
  });

  test("text without macros compiles and renders unchanged", () => {
    const src = "https://t.example/pb?a=1&b=2#frag";
    expect(renderText(compileText(src), values())).toBe(src);
  });
});

describe("renderText percent-encodes substituted values only", () => {
  const tpl = "https://t.example/pb/x?c={click}&s={status}";
  const cases: { name: string; click: string; expected: string }[] = [
    { name: "+ becomes %2B", click: "a+b", expected: "a%2Bb" },
    { name: "space becomes %20", click: "a b", expected: "a%20b" },
    { name: "/ is encoded", click: "a/b", expected: "a%2Fb" },
    { name: "= is encoded", click: "a=b", expected: "a%3Db" },
    { name: "& is encoded", click: "a&b", expected: "a%26b" },
    { name: "# is encoded", click: "a#b", expected: "a%23b" },
    { name: "% is encoded", click: "100%", expected: "100%25" },
    { name: "? is encoded", click: "a?b", expected: "a%3Fb" },
    { name: "newline is encoded", click: "a\nb", expected: "a%0Ab" },
    { name: "Cyrillic is UTF-8 encoded", click: "ключ", expected: "%D0%BA%D0%BB%D1%8E%D1%87" },
    { name: "emoji is UTF-8 encoded", click: "🚀", expected: "%F0%9F%9A%80" },
    { name: "empty value becomes an empty string", click: "", expected: "" },
    { name: "deep-link safe characters pass as they are", click: "Ab_9-x", expected: "Ab_9-x" },
  ];
  test.each(cases)("$name", ({ click, expected }) => {
    const out = renderText(compileText(tpl), values({ click, status: "wait" }));
    expect(out).toBe(`https://t.example/pb/x?c=${expected}&s=wait`);
  });

  test("empty values for every macro leave only the template's own text", () => {
    const src = POSTBACK_MACROS.map((m) => `${m}={${m}}`).join("&");
    const empty = Object.fromEntries(POSTBACK_MACROS.map((m) => [m, ""])) as MacroValues;
    expect(renderText(compileText(`https://t.example/pb?${src}`), empty)).toBe(
      `https://t.example/pb?${POSTBACK_MACROS.map((m) => `${m}=`).join("&")}`,
    );
  });

  test("a 4 KB click full of &#%=? does not change the URL's structure", () => {
    const click = "&#%=?/+ ".repeat(512); // 4096 chars
    expect(click.length).toBe(4096);
    const out = renderRequest(getTemplate("https://t.example/pb?sub={click}&st={status}&t={time}"), values({ click })).url;
    const url = new URL(out);
    expect(url.host).toBe("t.example");
    expect(url.pathname).toBe("/pb");
    expect(url.hash).toBe("");
    expect([...url.searchParams.keys()]).toEqual(["sub", "st", "t"]);
    expect(url.searchParams.get("sub")).toBe(click);
    expect(url.searchParams.get("st")).toBe("approve");
    expect(url.searchParams.get("t")).toBe("1735689600");
  });

  test("a value with every special character round-trips through URL parsing", () => {
    const click = "a+b c/d=e&f#g%h\ni ключ 🚀";
    const url = new URL(renderRequest(getTemplate("https://t.example/pb?c={click}"), values({ click })).url);
    expect([...url.searchParams.keys()]).toEqual(["c"]);
    expect(url.searchParams.get("c")).toBe(click);
  });
});

describe("a macro value cannot move the URL's path", () => {
  // WHATWG URL parsing (and so fetch) reads a path segment ".", "..", "%2E", ".%2E", "%2E%2E", … as a
  // dot segment and removes it; only a doubly encoded dot is sent as it is.
  const segment = (click: string, tpl = "https://t.example/path/{click}/end?c={click}") =>
    new URL(renderRequest(getTemplate(tpl), values({ click })).url);
  const cases: { name: string; click: string; pathname: string; query: string }[] = [
    { name: "a click of '..' in a path segment", click: "..", pathname: "/path/%252E%252E/end", query: ".." },
    { name: "a click of '.' in a path segment", click: ".", pathname: "/path/%252E/end", query: "." },
    { name: "a click of '...' (no dot segment) stays as it is", click: "...", pathname: "/path/.../end", query: "..." },
    { name: "a click of '%2E%2E' is encoded like any %", click: "%2E%2E", pathname: "/path/%252E%252E/end", query: "%2E%2E" },
    { name: "a click of '../..' cannot climb (the / is encoded)", click: "../..", pathname: "/path/..%2F../end", query: "../.." },
    { name: "a click of 'a.b' is left alone", click: "a.b", pathname: "/path/a.b/end", query: "a.b" },
  ];
  test.each(cases)("$name keeps /path/…/end (query value unchanged)", ({ click, pathname, query }) => {
    const url = segment(click);
    expect(url.pathname).toBe(pathname);
    expect(url.searchParams.get("c")).toBe(query);
  });

  test("two macros of '.' side by side cannot form '..'", () => {
    const url = new URL(renderRequest(getTemplate("https://t.example/path/{click}{username}/end"), values({ click: ".", username: "." })).url);
    expect(url.pathname).toBe("/path/%252E%252E/end");
  });

  test("a '.' next to the template's own dot cannot form '..'", () => {
    expect(segment(".", "https://t.example/path/{click}./end").pathname).toBe("/path/%252E./end");
  });

  test("after a # the value is not in the path and is left alone", () => {
    expect(renderRequest(getTemplate("https://t.example/p#/{click}"), values({ click: ".." })).url).toBe("https://t.example/p#/..");
  });
});

describe("a value that is not well-formed UTF-16 cannot break rendering", () => {
  const lone = ["\ud800", "a\udfffb", "\udc00\ud800"].map((s) => JSON.parse(`"${s}"`) as string);
  test.each(lone)("a lone surrogate in %p is sent as U+FFFD, not thrown", (click) => {
    const url = new URL(renderRequest(getTemplate("https://t.example/pb?c={click}"), values({ click })).url);
    expect(url.searchParams.get("c")).toBe(click.toWellFormed());
  });
});

describe("renderRequest", () => {
  test("GET without body", () => {
    expect(renderRequest(getTemplate("https://t.example/pb?c={click}"), values({ click: "x y" }))).toEqual({
      method: "GET", url: "https://t.example/pb?c=x%20y", body: null, contentType: null,
    });
  });

  const jsonTemplate = (value: JsonTemplate): Template => ({
    label: "j", method: "POST", url: compileText("https://t.example/hook?l={lead}"), body: { type: "json", value },
  });

  const jsonCases: { name: string; click: string }[] = [
    { name: "plain value", click: "abc" },
    { name: "double quotes", click: `he said "hi"` },
    { name: "backslashes", click: "C:\\path\\" },
    { name: "quote-backslash-quote injection attempt", click: `\\", "admin": true, "x": "` },
    { name: "newline and unicode", click: "a\nb ключ 🚀" },
    { name: "URL-special characters stay raw (not percent-encoded)", click: "a+b&c=d%20" },
  ];
  test.each(jsonCases)("JSON body: $name is inserted raw and the body stays valid JSON", ({ click }) => {
    const req = renderRequest(
      jsonTemplate({
        click: compileText("{click}"),
        label: compileText("lead {lead}/{status}"),
        nested: { list: [compileText("{click}"), 7, true, null] },
      }),
      values({ click }),
    );
    expect(req.method).toBe("POST");
    expect(req.contentType).toBe("application/json");
    expect(req.url).toBe("https://t.example/hook?l=42");
    expect(JSON.parse(req.body!)).toEqual({ click, label: "lead 42/approve", nested: { list: [click, 7, true, null] } });
  });

  const formTemplate = (fields: [string, string][]): Template => ({
    label: "f", method: "POST", url: compileText("https://t.example/form"),
    body: { type: "form", fields: fields.map(([k, v]) => [k, compileText(v)]) },
  });

  const formCases: { name: string; fields: [string, string][]; vals: Partial<MacroValues>; expected: [string, string][] }[] = [
    {
      name: "macro values are encoded",
      fields: [["subid", "{click}"], ["status", "{status}"]],
      vals: { click: "a+b&c=d e" },
      expected: [["subid", "a+b&c=d e"], ["status", "approve"]],
    },
    {
      name: "non-ASCII and empty values",
      fields: [["name", "{username}"], ["p", "{payout}"]],
      vals: { username: "ключ🚀", payout: "" },
      expected: [["name", "ключ🚀"], ["p", ""]],
    },
    {
      name: "field names with special characters are encoded",
      fields: [["a b&c", "{lead}"]],
      vals: {},
      expected: [["a b&c", "42"]],
    },
    {
      name: "literal text in a field value is kept as one value",
      fields: [["note", "lead & sale = {status}"], ["x", "1"]],
      vals: {},
      expected: [["note", "lead & sale = approve"], ["x", "1"]],
    },
  ];
  test.each(formCases)("form body: $name", ({ fields, vals, expected }) => {
    const req = renderRequest(formTemplate(fields), values(vals));
    expect(req.method).toBe("POST");
    expect(req.contentType).toBe("application/x-www-form-urlencoded");
    expect([...new URLSearchParams(req.body!).entries()]).toEqual(expected);
  });

  test("form body: + in a value is sent as %2B, not as a space", () => {
    const req = renderRequest(formTemplate([["c", "{click}"]]), values({ click: "a+b" }));
    expect(req.body).toBe("c=a%2Bb");
  });
});

describe("empty macros in preset URLs", () => {
  const KEITARO = "https://trk.example/e89bcbe/postback?subid={click}&status={status}&payout={payout}&currency={currency}&tid={lead}&lead_status=wait,hold";

  test("loneMacroParams finds the parameters whose whole value is one macro", () => {
    expect(loneMacroParams(KEITARO)).toEqual([["subid", "click"], ["status", "status"], ["payout", "payout"], ["currency", "currency"], ["tid", "lead"]]);
    expect(loneMacroParams("https://t.example/pb?p={payout}{currency}&x=a{click}&y=1#f={lead}")).toEqual([]);
    expect(loneMacroParams("https://t.example/{click}/pb")).toEqual([]);
  });

  const preset = (url: string): Template => ({ label: "p", method: "GET", url: compileText(url), omitWhenEmpty: loneMacroParams(url) });
  const cases: { name: string; url: string; vals: Partial<MacroValues>; expected: string }[] = [
    { name: "empty payout and currency are left out", url: KEITARO, vals: { payout: "", currency: "" }, expected: "https://trk.example/e89bcbe/postback?subid=c1&status=approve&tid=42&lead_status=wait,hold" },
    { name: "set ones are kept", url: KEITARO, vals: {}, expected: "https://trk.example/e89bcbe/postback?subid=c1&status=approve&payout=1.5&currency=USD&tid=42&lead_status=wait,hold" },
    { name: "only the empty one goes", url: KEITARO, vals: { currency: "" }, expected: "https://trk.example/e89bcbe/postback?subid=c1&status=approve&payout=1.5&tid=42&lead_status=wait,hold" },
    { name: "the first parameter", url: "https://t.example/pb?p={payout}&c={click}", vals: { payout: "" }, expected: "https://t.example/pb?c=c1" },
    { name: "every parameter: no bare ?", url: "https://t.example/pb?p={payout}", vals: { payout: "" }, expected: "https://t.example/pb" },
    { name: "a fragment is kept", url: "https://t.example/pb?p={payout}&c={click}#x", vals: { payout: "" }, expected: "https://t.example/pb?c=c1#x" },
    { name: "a value that encodes to & or = stays one parameter", url: "https://t.example/pb?c={click}&p={payout}", vals: { click: "a&payout=", payout: "" }, expected: "https://t.example/pb?c=a%26payout%3D" },
  ];
  test.each(cases)("$name", ({ url, vals, expected }) => {
    expect(renderRequest(preset(url), values(vals)).url).toBe(expected);
  });

  test("a plain template keeps what the user wrote", () => {
    expect(renderRequest(getTemplate("https://t.example/pb?c={click}&p={payout}&cur={currency}"), values({ payout: "", currency: "" })).url)
      .toBe("https://t.example/pb?c=c1&p=&cur=");
  });

  test.each<[string, string, boolean]>([
    ["https://t.example/pb?c={click}", "", true],
    ["https://t.example/pb?c={click}", "  ", true],
    ["https://t.example/pb?c={click}", "abc", false],
    ["https://t.example/pb?l={lead}", "", false],
  ])("lacksClick(%s, click %p) → %p", (url, click, expected) => {
    expect(lacksClick(getTemplate(url), values({ click }))).toBe(expected);
  });

  test("lacksClick: {click} only in a POST body does not hold the request back", () => {
    const t: Template = { label: "j", method: "POST", url: compileText("https://crm.example/hook"), body: { type: "json", value: { click: compileText("{click}") } } };
    expect(lacksClick(t, values({ click: "" }))).toBe(false);
  });

  test("usesMacro", () => {
    expect(usesMacro(compileText(KEITARO), "click")).toBe(true);
    expect(usesMacro(compileText("https://t.example/pb?l={lead}&note=click"), "click")).toBe(false);
  });
});

describe("resolveTemplates (all-or-nothing per campaign)", () => {
  const set = (label: string, statuses: readonly (typeof STATUSES)[number][]): EventTemplates => {
    const t = emptyTemplates();
    for (const s of statuses) t[s] = [getTemplate(`https://${label}.example/${s}`, `${label}.${s}`)];
    return t;
  };
  const global = set("global", STATUSES);
  const partialCampaign = set("camp", ["approve"]); // campaign sets only approve
  const emptyCampaign = emptyTemplates(); // campaign sets its own five, all empty

  const cases: { name: string; campaign: EventTemplates | null; status: (typeof STATUSES)[number]; expected: string[] }[] = [
    ...STATUSES.map((status) => ({ name: `campaign null → global ${status}`, campaign: null, status, expected: [`global.${status}`] })),
    { name: "campaign with approve set → its approve", campaign: partialCampaign, status: "approve", expected: ["camp.approve"] },
    ...(["wait", "hold", "cancel", "trash"] as const).map((status) => ({
      name: `campaign with only approve set → no ${status} postback (no per-event fallback to global)`,
      campaign: partialCampaign, status, expected: [],
    })),
    ...STATUSES.map((status) => ({ name: `campaign with an empty list → nothing for ${status}`, campaign: emptyCampaign, status, expected: [] })),
  ];
  test.each(cases)("$name", ({ campaign, status, expected }) => {
    expect(resolveTemplates(global, campaign, status).map((t) => t.label)).toEqual(expected);
  });

  test("several templates for one event are all returned, in order", () => {
    const multi = emptyTemplates();
    multi.approve = [getTemplate("https://a.example/", "a"), getTemplate("https://b.example/", "b")];
    expect(resolveTemplates(global, multi, "approve").map((t) => t.label)).toEqual(["a", "b"]);
  });
});
