import { describe, expect, it } from "vitest";
import { dayLabel, GROUP_GAP_MS, groupMessages } from "../src/room/message-groups.ts";

// Local times (the constructor reads them in the process's zone), as the reader's browser would.
const NOW = new Date(2026, 10, 30, 15, 0);
let next = 0;
const at = (userId: string, date: Date) => ({ id: `m${++next}`, userId, createdAt: date.toISOString() });
const today = (h: number, m: number, s = 0) => new Date(2026, 10, 30, h, m, s);

/** Each day as its label and its groups as author:count. */
const shape = (messages: ReturnType<typeof at>[]) =>
  groupMessages(messages, NOW).map((day) => [
    day.label,
    day.groups.map((g) => `${g.userId}:${g.messages.length}`),
  ]);

describe("groupMessages", () => {
  it("puts consecutive messages by one author within 5 minutes under one header", () => {
    expect(
      shape([
        at("ada", today(9, 0)),
        at("ada", today(9, 3)),
        at("ada", today(9, 7, 59)),
        at("bob", today(9, 8)),
      ]),
    ).toEqual([["Today", ["ada:3", "bob:1"]]]);
  });

  it("measures the 5 minutes from the previous message, and starts a new group past them", () => {
    const start = today(10, 0);
    const exactly = new Date(start.getTime() + GROUP_GAP_MS);
    const past = new Date(exactly.getTime() + GROUP_GAP_MS + 1);
    expect(shape([at("ada", start), at("ada", exactly), at("ada", past)])).toEqual([
      ["Today", ["ada:2", "ada:1"]],
    ]);
  });

  it("starts a new group when another author speaks in between", () => {
    expect(shape([at("ada", today(11, 0)), at("bob", today(11, 1)), at("ada", today(11, 2))])).toEqual([
      ["Today", ["ada:1", "bob:1", "ada:1"]],
    ]);
  });

  it("keeps a group together when clocks disagree by a little (order is the room's, times the server's)", () => {
    expect(shape([at("ada", today(12, 0, 30)), at("ada", today(12, 0, 10))])).toEqual([["Today", ["ada:2"]]]);
  });

  it("splits days at local midnight with Today, Yesterday and the date, even within 5 minutes", () => {
    const days = groupMessages(
      [
        at("ada", new Date(2026, 10, 27, 8, 0)),
        at("ada", new Date(2026, 10, 29, 23, 58)),
        at("ada", new Date(2026, 10, 30, 0, 1)),
      ],
      NOW,
    );
    expect(days.map((d) => d.day)).toEqual(["2026-11-27", "2026-11-29", "2026-11-30"]);
    expect(days.map((d) => d.label)).toEqual([
      new Intl.DateTimeFormat(undefined, { dateStyle: "full" }).format(new Date(2026, 10, 27, 8, 0)),
      "Yesterday",
      "Today",
    ]);
    expect(days.map((d) => d.groups.length)).toEqual([1, 1, 1]);
  });

  it("says Yesterday for the calendar day before, not for 24 hours before", () => {
    const earlyMorning = new Date(2026, 10, 30, 0, 30);
    expect(dayLabel(new Date(2026, 10, 29, 1, 0), earlyMorning)).toBe("Yesterday");
    expect(dayLabel(new Date(2026, 10, 28, 23, 0), earlyMorning)).not.toBe("Yesterday");
    expect(dayLabel(new Date(2026, 11, 1, 9, 0), new Date(2026, 11, 2, 9, 0))).toBe("Yesterday");
  });

  it("keys a group by its first message, so the key stays while messages join it", () => {
    const first = at("ada", today(13, 0));
    const before = groupMessages([first], NOW)[0]?.groups[0]?.key;
    const after = groupMessages([first, at("ada", today(13, 1))], NOW)[0]?.groups[0]?.key;
    expect(before).toBe(first.id);
    expect(after).toBe(first.id);
  });

  it("returns no days for no messages", () => {
    expect(groupMessages([], NOW)).toEqual([]);
  });
});
