// SPEC §9: the click record's macros — {utm_*} {sub1}…{sub5} {fbclid} {fbc} {fbp} {ttclid} {gclid}
// {yclid} {param:NAME} {ip} {user_agent} — each empty when absent, rendered like every other macro.
import { describe, expect, test } from "bun:test";
import { compileText, macroValues, renderRequest, renderText, type ClickRecord, type Template } from "../../src/domain/templates.ts";

const campaign = { code: "spring", payouts: {} };
const lead = { id: 42, click: "", subscriber: 777, username: "alice", chatId: -1001 };
const event = { id: 9001, status: "approve", occurredAt: 1_765_152_000_000, payout: null, currency: null };

const click: ClickRecord = {
  params: {
    utm_source: "fb", utm_medium: "cpc", utm_campaign: "spring sale", utm_content: "ad_7", utm_term: "tg",
    sub1: "s1", sub2: "s2", sub3: "s3", sub4: "s4", sub5: "s5",
    fbclid: "IwAR2xYz_AbC", ttclid: "E.C.P.tt123", gclid: "Cj0KCQ", yclid: "9283746501", adset: "a+b", "ad.name": "x/y",
  },
  fbc: "fb.1.1765151000000.IwAR2xYz_AbC", fbp: "fb.1.1596403881668.1116446470",
  ip: "203.0.113.7", userAgent: "Mozilla/5.0 (iPhone)", referrer: "https://m.facebook.com/", landingUrl: "https://landing.example/tg?x=1",
};

describe("click macros", () => {
  const expected: [macro: string, value: string][] = [
    ["utm_source", "fb"], ["utm_medium", "cpc"], ["utm_campaign", "spring sale"], ["utm_content", "ad_7"], ["utm_term", "tg"],
    ["sub1", "s1"], ["sub2", "s2"], ["sub3", "s3"], ["sub4", "s4"], ["sub5", "s5"],
    ["fbclid", "IwAR2xYz_AbC"], ["fbc", "fb.1.1765151000000.IwAR2xYz_AbC"], ["fbp", "fb.1.1596403881668.1116446470"],
    ["ttclid", "E.C.P.tt123"], ["gclid", "Cj0KCQ"], ["yclid", "9283746501"], ["ip", "203.0.113.7"], ["user_agent", "Mozilla/5.0 (iPhone)"],
    ["referrer", "https://m.facebook.com/"], ["landing_url", "https://landing.example/tg?x=1"], ["param:adset", "a+b"], ["param:ad.name", "x/y"],
  ];
  test.each(expected)("{%s} from the click record", (macro, value) => {
    const text = compileText(`{${macro}}`);
    expect(renderText(text, macroValues("1", campaign, lead, event, click), (v) => v)).toBe(value);
  });

  test.each(expected)("{%s} is empty without a click record", (macro) => {
    expect(renderText(compileText(`x{${macro}}y`), macroValues("1", campaign, lead, event), (v) => v)).toBe("xy");
  });

  test("a parameter the click did not carry is empty; the lead macros are unchanged by a click", () => {
    const values = macroValues("1", campaign, lead, event, { params: { utm_source: "tt" } });
    expect(renderText(compileText("{utm_medium}|{param:nosuch}|{fbc}|{ip}|{utm_source}"), values, (v) => v)).toBe("||||tt");
    expect(values.click).toBe("");
    expect(values.subscriber).toBe("777");
    expect(values.event).toBe("9001");
  });

  test("in a URL the values are percent-encoded like every macro; in a JSON body they are inserted as they are", () => {
    const template: Template = {
      label: "t", method: "POST", url: compileText("https://crm.example/hook?src={utm_source}&c={utm_campaign}&set={param:adset}&ua={user_agent}"),
      body: { type: "json", value: { ip: compileText("{ip}"), fbclid: compileText("{fbclid}"), name: compileText("{param:ad.name}") } },
    };
    const req = renderRequest(template, macroValues("1", campaign, lead, event, click));
    expect(req.url).toBe("https://crm.example/hook?src=fb&c=spring%20sale&set=a%2Bb&ua=Mozilla%2F5.0%20(iPhone)");
    expect(JSON.parse(req.body!)).toEqual({ ip: "203.0.113.7", fbclid: "IwAR2xYz_AbC", name: "x/y" });
  });

  test("{param:NAME} needs a name; an unknown {name} is still refused, and the message names {param:NAME}", () => {
    expect(() => compileText("https://t.example/?a={param}")).toThrow("unknown macro {param}");
    expect(() => compileText("https://t.example/?a={utm_sorce}")).toThrow("{param:NAME}");
    // The welcome's macros take them too; a text compiled without click macros does not.
    expect(() => compileText("{param:x}", ["click"])).toThrow("unknown macro {param:x}");
  });

  test("a parameter named like an object's own key is only a parameter", () => {
    const values = macroValues("1", campaign, lead, event, { params: { __proto__: "p", constructor: "c", toString: "t" } as Record<string, string> });
    expect(renderText(compileText("{param:constructor}|{param:toString}|{utm_source}"), values, (v) => v)).toBe("c|t|");
  });
});
