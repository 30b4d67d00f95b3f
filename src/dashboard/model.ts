import { t } from "elysia";
import { withMessage } from "../http/schema.ts";

export const SignInBody = t.Object({
  key: withMessage(t.String({ minLength: 1, maxLength: 1000, description: "an API key from api_keys" }), "must be an API key"),
});

export const SessionAnswer = t.Object({
  authenticated_by: t.Union([t.Literal("session"), t.Literal("api_key")]),
  expires_at: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "when the session ends; null for an API key" }),
  timezone: t.String({ description: "dashboard.timezone: the default zone of GET /api/stats" }),
  click_groups: t.Array(t.String(), { description: "dashboard.click_groups: the click parameters GET /api/stats?group= takes" }),
});

export const SignedOutAnswer = t.Object({ signed_out: t.Literal(true) });
export const sessionExample = {
  authenticated_by: "session", expires_at: "2024-05-08T10:00:00.000Z", timezone: "Europe/Moscow", click_groups: ["utm_source", "utm_campaign", "sub1"],
};
