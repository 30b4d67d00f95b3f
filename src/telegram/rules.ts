import type { Status } from "../domain/status.ts";

/** The part of a ChatMember the lifecycle needs (reference/telegram.md). */
export interface MemberState {
  status: "creator" | "administrator" | "member" | "restricted" | "left" | "kicked";
  is_member?: boolean;
}

/** In the chat: creator, administrator, member, or restricted with is_member. */
export const isInChat = (m: MemberState) =>
  m.status === "creator" || m.status === "administrator" || m.status === "member" || (m.status === "restricted" && m.is_member === true);

/**
 * What a chat_member update means for the subscriber's lead: out→in = approve; in→kicked or
 * out→kicked = trash; in→out by the user = cancel; in→out by someone else = trash; anything else
 * (kicked→left = unban, in→in, out→out) = nothing.
 */
export function classifyMemberChange(oldMember: MemberState, newMember: MemberState, userId: number, fromId: number): Status | null {
  const wasIn = isInChat(oldMember);
  const isIn = isInChat(newMember);
  if (!wasIn && isIn) return "approve";
  if (wasIn && !isIn) {
    if (newMember.status === "kicked") return "trash";
    return fromId === userId ? "cancel" : "trash";
  }
  // A pending join requester can be banned too (hold → trash); the state machine ignores it for other leads.
  if (!wasIn && newMember.status === "kicked" && oldMember.status !== "kicked") return "trash";
  return null;
}

export type StartPayload =
  | { kind: "ok"; code: string; click: string; payload: string }
  | { kind: "missing" }
  /** `payload` cut at 100 characters for the journal; `length` is the whole one's. */
  | { kind: "malformed"; payload: string; length: number };

const PAYLOAD = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads `/start CODE-click` (SPEC §2): payload ≤ 64 chars of A-Z a-z 0-9 _ -, split at the first
 * `-`: the campaign code on the left, the click (possibly empty, possibly with `-`) on the right.
 */
export function parseStartCommand(text: string): StartPayload | null {
  const m = /^\/start(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$/s.exec(text.trim());
  if (!m) return null;
  const payload = (m[1] ?? "").trim();
  if (!payload) return { kind: "missing" };
  if (!PAYLOAD.test(payload)) return { kind: "malformed", payload: payload.slice(0, 100), length: payload.length };
  const dash = payload.indexOf("-");
  return dash < 0 ? { kind: "ok", code: payload, click: "", payload } : { kind: "ok", code: payload.slice(0, dash), click: payload.slice(dash + 1), payload };
}
