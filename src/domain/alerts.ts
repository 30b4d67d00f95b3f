// An alert's state machine (pure; table-tested in test/unit/alerts.test.ts). One alert per cause
// (a bot, a chat, a host, a campaign, the storage), looked at on a timer:
//
//   ok ──bad──▶ pending ──bad for afterMs──▶ firing (sends "fire")
//   pending ──fine──▶ ok (nothing was sent)
//   firing ──fine──▶ recovering ──fine for recoverAfterMs──▶ ok (sends "recover")
//   recovering ──bad──▶ firing (the same incident goes on: nothing sent)
//
// Two messages of one alert are at least spacingMs apart: a fire or a recovery that would come
// sooner waits in its state until the spacing has passed (and is dropped if its cause changes
// meanwhile). So a cause flapping faster than afterMs never fires, and one flapping slower sends at
// most one message per spacingMs. An unknown observation (the process just started, a bot still
// starting) changes nothing.

export type AlertPhase = "ok" | "pending" | "firing" | "recovering";

export interface AlertState {
  phase: AlertPhase;
  /** pending, firing, recovering: since when the cause has been bad. */
  badSince: number | null;
  /** recovering: since when the cause has been fine. */
  goodSince: number | null;
  /** firing, recovering: when the alert was sent. */
  firedAt: number | null;
  /** This alert's last message (a fire or a recovery), across incidents: the spacing counts from it. */
  lastSentAt: number | null;
}

/** What the cause looks like now: bad (since when, if known), fine, or unknown (null). */
export type Observation = { bad: true; since?: number } | { bad: false } | null;

export interface AlertRules {
  /** How long the cause must be bad before the alert fires, ms. */
  afterMs: number;
  /** Least time between two messages of this alert, ms. */
  spacingMs: number;
  /** How long the cause must be fine before the recovery is sent, ms. */
  recoverAfterMs: number;
}

export interface AlertStep {
  state: AlertState;
  send: "fire" | "recover" | null;
}

export const OK: AlertState = { phase: "ok", badSince: null, goodSince: null, firedAt: null, lastSentAt: null };

const spaced = (s: AlertState, rules: AlertRules, now: number) => s.lastSentAt === null || now - s.lastSentAt >= rules.spacingMs;

/** The alert's next state at `now`, and the message it sends, if any. */
export function stepAlert(state: AlertState, observed: Observation, rules: AlertRules, now: number): AlertStep {
  if (observed === null) return { state, send: null };
  const stay = { state, send: null } as const;
  switch (state.phase) {
    case "ok":
    case "pending": {
      if (!observed.bad) return state.phase === "ok" ? stay : { state: { ...OK, lastSentAt: state.lastSentAt }, send: null };
      const badSince = Math.min(state.badSince ?? now, observed.since ?? now, now);
      if (now - badSince >= rules.afterMs && spaced(state, rules, now)) {
        return { state: { phase: "firing", badSince, goodSince: null, firedAt: now, lastSentAt: now }, send: "fire" };
      }
      return state.phase === "pending" && state.badSince === badSince ? stay : { state: { ...state, phase: "pending", badSince }, send: null };
    }
    case "firing":
      return observed.bad ? stay : { state: { ...state, phase: "recovering", goodSince: now }, send: null };
    case "recovering": {
      if (observed.bad) return { state: { ...state, phase: "firing", goodSince: null }, send: null };
      if (now - state.goodSince! >= rules.recoverAfterMs && spaced(state, rules, now)) {
        return { state: { ...OK, lastSentAt: now }, send: "recover" };
      }
      return stay;
    }
  }
}
