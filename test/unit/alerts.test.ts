// The alert state machine (domain/alerts.ts): fires once per incident after its threshold, sends a
// recovery once the cause has been fine long enough, and never floods when the cause flaps.
import { describe, expect, test } from "bun:test";
import { OK, stepAlert, type AlertPhase, type AlertRules, type AlertState, type Observation } from "../../src/domain/alerts.ts";

const MIN = 60_000;
const RULES: AlertRules = { afterMs: 5 * MIN, spacingMs: 15 * MIN, recoverAfterMs: 2 * MIN };
const BAD: Observation = { bad: true };
const FINE: Observation = { bad: false };

/** Runs observations at the given minutes; returns what was sent at which minute, and the last phase. */
function run(steps: [minute: number, obs: Observation][], start: AlertState = OK, rules = RULES) {
  let state = start;
  const sent: string[] = [];
  for (const [minute, obs] of steps) {
    const step = stepAlert(state, obs, rules, minute * MIN);
    if (step.send) sent.push(`${step.send}@${minute}`);
    state = step.state;
  }
  return { sent, phase: state.phase };
}

/** A cause observed every minute from `from` to `to`, bad where `bad(minute)`. */
const every = (from: number, to: number, bad: (m: number) => boolean): [number, Observation][] =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, bad(from + i) ? BAD : FINE]);

describe("stepAlert", () => {
  test.each<[string, [number, Observation][], string[], AlertPhase]>([
    ["fine all along: nothing", every(0, 30, () => false), [], "ok"],
    ["bad for less than the threshold: nothing, and nothing left pending", every(0, 30, (m) => m >= 10 && m < 14), [], "ok"],
    ["bad from minute 10: fires once at 15, never again while it stays bad", every(0, 60, (m) => m >= 10), ["fire@15"], "firing"],
    ["fine again at 20: recovers at 22 (2 min fine)... held by the spacing until 30", every(0, 40, (m) => m >= 10 && m < 20), ["fire@15", "recover@30"], "ok"],
    ["fine again at 40: recovers at 42, the spacing long past", every(0, 50, (m) => m >= 10 && m < 40), ["fire@15", "recover@42"], "ok"],
    ["a blip during the incident: the same incident, no recovery, no second fire", every(0, 60, (m) => m >= 10 && m !== 25), ["fire@15"], "firing"],
    ["flapping every minute for an hour: never bad 5 min in a row, never fires", every(0, 60, (m) => m % 2 === 0), [], "pending"],
    ["flapping 6 min bad / 6 min fine for 2 hours: at most one message per 15 min", every(0, 120, (m) => m % 12 < 6), ["fire@5", "recover@20", "fire@41", "recover@56", "fire@77", "recover@92", "fire@113"], "firing"],
    ["unknown observations change nothing", [[0, BAD], [3, null], [6, BAD], [7, null], [8, FINE], [9, null], [11, FINE]], ["fire@6", "recover@21"].slice(0, 1), "recovering"],
  ])("%s", (_name, steps, sent, phase) => {
    expect(run(steps)).toEqual({ sent, phase });
  });

  test("a cause bad since before it was first seen (its own since) fires as soon as the threshold is behind it", () => {
    const step = stepAlert(OK, { bad: true, since: 0 }, RULES, 6 * MIN);
    expect(step.send).toBe("fire");
    expect(step.state).toMatchObject({ phase: "firing", badSince: 0, firedAt: 6 * MIN, lastSentAt: 6 * MIN });
  });

  test("a threshold of 0 fires at the first bad look; a cause back before its recovery could be sent is the same incident; the spacing holds the next one back", () => {
    const rules = { ...RULES, afterMs: 0 };
    expect(run([[0, BAD], [1, FINE], [3, FINE], [4, BAD], [10, BAD]], OK, rules)).toEqual({ sent: ["fire@0"], phase: "firing" });
    expect(run([[0, BAD], [1, FINE], [3, FINE], [16, FINE], [17, BAD], [20, BAD], [31, BAD], [32, BAD]], OK, rules).sent).toEqual(["fire@0", "recover@16", "fire@31"]);
  });

  test("every gap between two messages of a flapping cause is at least the spacing", () => {
    for (const period of [2, 7, 11, 12, 13, 20, 31]) {
      const { sent } = run(every(0, 600, (m) => m % period < period / 2));
      const at = sent.map((s) => Number(s.split("@")[1]));
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(15);
      expect(sent.filter((s) => s.startsWith("fire")).length - sent.filter((s) => s.startsWith("recover")).length).toBeOneOf([0, 1]);
    }
  });

  test("the spacing counts from the last message across incidents, as restored after a restart", () => {
    const resolvedAt10 = { ...OK, lastSentAt: 10 * MIN };
    expect(run([[12, BAD], [17, BAD], [24, BAD], [25, BAD]], resolvedAt10).sent).toEqual(["fire@25"]);
  });

  test("restored firing (a restart during an incident): no second fire, recovery when fine", () => {
    const firing: AlertState = { phase: "firing", badSince: 0, goodSince: null, firedAt: 5 * MIN, lastSentAt: 5 * MIN };
    expect(run([[30, BAD], [31, null], [40, FINE], [42, FINE]], firing).sent).toEqual(["recover@42"]);
  });
});
