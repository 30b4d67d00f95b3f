/** Rights a bot needs in a tracked chat: invite links and join requests need can_invite_users. */
export const REQUIRED_RIGHTS = ["can_invite_users"] as const;

export const isAdmin = (status: string | undefined) => status === "administrator" || status === "creator";

export function missingRights(status: string, rights: Record<string, boolean> | null): string[] {
  if (status === "creator") return [];
  if (status !== "administrator") return ["administrator"];
  return REQUIRED_RIGHTS.filter((r) => rights?.[r] !== true);
}
