/**
 * How a timeline is drawn: messages split by calendar day (the reader's own time zone), and
 * within a day, runs of messages by one author shown under one header. Pure, so that the
 * rules are tested without a browser.
 */

/** Messages by one author, each within this long of the one before, share a header. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

/** The fields grouping reads; the timeline's messages carry more and are handed back unchanged. */
export interface Groupable {
  id: string;
  userId: string;
  createdAt: string;
}

export interface MessageGroup<M extends Groupable> {
  /** The first message's id: stable while later messages join the group, so a React key. */
  key: string;
  userId: string;
  messages: M[];
}

export interface TimelineDay<M extends Groupable> {
  /** YYYY-MM-DD in the reader's time zone. */
  day: string;
  /** "Today", "Yesterday" or the date, relative to `now`. */
  label: string;
  groups: MessageGroup<M>[];
}

const pad = (n: number) => String(n).padStart(2, "0");

/** The local calendar day of a moment, as YYYY-MM-DD. */
export function dayKey(at: Date): string {
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

const dateLabel = new Intl.DateTimeFormat(undefined, { dateStyle: "full" });

export function dayLabel(at: Date, now: Date): string {
  const today = dayKey(now);
  if (dayKey(at) === today) return "Today";
  // The calendar day before, not 24 hours before: across a DST change a day is 23 or 25 hours.
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (dayKey(at) === dayKey(yesterday)) return "Yesterday";
  return dateLabel.format(at);
}

/**
 * Splits messages (already in timeline order) into days and author groups. A message starts a
 * new group when its author differs from the previous message's, when it falls on another day,
 * or when more than GROUP_GAP_MS separates it from the previous message. Clocks can disagree
 * by a little (a message's time is the server's, its order the room's seq), so the gap is
 * measured either way.
 */
export function groupMessages<M extends Groupable>(messages: readonly M[], now: Date): TimelineDay<M>[] {
  const days: TimelineDay<M>[] = [];
  let previous: { message: M; at: number } | null = null;
  for (const message of messages) {
    const created = new Date(message.createdAt);
    const at = created.getTime();
    const day = dayKey(created);
    let currentDay = days.at(-1);
    if (!currentDay || currentDay.day !== day) {
      currentDay = { day, label: dayLabel(created, now), groups: [] };
      days.push(currentDay);
      previous = null;
    }
    const group = currentDay.groups.at(-1);
    if (
      group &&
      previous &&
      previous.message.userId === message.userId &&
      Math.abs(at - previous.at) <= GROUP_GAP_MS
    ) {
      group.messages.push(message);
    } else {
      currentDay.groups.push({ key: message.id, userId: message.userId, messages: [message] });
    }
    previous = { message, at };
  }
  return days;
}
