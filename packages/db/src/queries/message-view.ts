import { type AttachmentViewJson, messages } from "../schema.ts";

type MessageRow = typeof messages.$inferSelect;

/**
 * One field of the message view: the `messages` columns it reads, its value in SQL (from a row
 * alias that has those columns, and an expression for the author's display name, which lives in
 * `users`), and its value from a Drizzle row.
 */
interface ViewField<T> {
  readonly columns: readonly string[];
  sql(row: string, authorName: string): string;
  /** Its value as a result column, where the drivers' parsing differs from json's (int8). */
  columnSql?(row: string): string;
  read(row: MessageRow, authorName: string): T;
}

/** toISOString() of a timestamptz column (milliseconds, truncated as a JS Date does), or null. */
const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const isoOf = (column: string) => `to_char(${column} at time zone 'UTC', ${ISO_MS})`;

type TimeKey = { [K in keyof MessageRow]: MessageRow[K] extends Date | null ? K : never }[keyof MessageRow];

function column<K extends keyof MessageRow>(key: K): ViewField<MessageRow[K]> {
  const name = messages[key].name;
  return { columns: [name], sql: (row) => `${row}.${name}`, read: (row) => row[key] };
}

/**
 * A bigint column: json_build_object writes it as a JSON number, but both drivers return an int8
 * result column as a string, so as a column it is read as float8 (exact below 2^53, as the JSON
 * number is once parsed).
 */
function bigintColumn(key: "seq"): ViewField<number> {
  const name = messages[key].name;
  return {
    columns: [name],
    sql: (row) => `${row}.${name}`,
    columnSql: (row) => `${row}.${name}::float8`,
    read: (row) => row[key],
  };
}

function time(key: "createdAt"): ViewField<string> {
  const name = messages[key].name;
  return { columns: [name], sql: (row) => isoOf(`${row}.${name}`), read: (row) => row[key].toISOString() };
}

function optionalTime(key: Exclude<TimeKey, "createdAt">): ViewField<string | null> {
  const name = messages[key].name;
  return {
    columns: [name],
    sql: (row) => isoOf(`${row}.${name}`),
    read: (row) => row[key]?.toISOString() ?? null,
  };
}

const authorName: ViewField<string> = {
  columns: [],
  sql: (_row, author) => author,
  read: (_row, author) => author,
};

/** A deleted message keeps its row (a tombstone) but shows no content. */
const liveContent: ViewField<string | null> = {
  columns: [messages.content.name, messages.deletedAt.name],
  sql: (row) =>
    `case when ${row}.${messages.deletedAt.name} is null then ${row}.${messages.content.name} end`,
  read: (row) => (row.deletedAt === null ? row.content : null),
};

/** A deleted message's files are gone with its text (the sweeper removes their blobs). */
const liveAttachments: ViewField<AttachmentViewJson[]> = {
  columns: [messages.attachments.name, messages.deletedAt.name],
  sql: (row) =>
    `case when ${row}.${messages.deletedAt.name} is null then ${row}.${messages.attachments.name} else '[]'::jsonb end`,
  read: (row) => (row.deletedAt === null ? row.attachments : []),
};

/**
 * The message view, field by field, in the order its keys appear on the wire. This object is the
 * only place that order is written: the SQL that builds the view (json_build_object keeps the
 * order it is given), the column lists the statements select and return, the TypeScript type and
 * messageViewOf all come from it. Adding a field to the view is one line here (and the column in
 * schema.ts).
 */
const messageViewFields = {
  id: column("id"),
  roomId: column("roomId"),
  seq: bigintColumn("seq"),
  userId: column("userId"),
  authorName,
  content: liveContent,
  clientMessageId: column("clientMessageId"),
  createdAt: time("createdAt"),
  editedAt: optionalTime("editedAt"),
  deletedAt: optionalTime("deletedAt"),
  parentId: column("parentId"),
  replyCount: column("replyCount"),
  lastReplyAt: optionalTime("lastReplyAt"),
  mentions: column("mentions"),
  mentionsRoom: column("mentionsRoom"),
  attachments: liveAttachments,
};

type Fields = typeof messageViewFields;

/** A message as every API output shows it (history, send, message.created, search). */
export type MessageViewJson = { [K in keyof Fields]: ReturnType<Fields[K]["read"]> };

const fields = Object.entries(messageViewFields);

/** The `messages` columns the view reads, each once, for a statement's select or returning list. */
export const messageViewColumns: readonly string[] = [...new Set(fields.flatMap(([, f]) => f.columns))];

/** `messageViewColumns` qualified by a row alias: `m.id, m.room_id, …`. */
export const messageViewColumnsOf = (row: string) => messageViewColumns.map((c) => `${row}.${c}`).join(", ");

/**
 * The view's key/value pairs for json_build_object, in wire order: `'id', m.id, 'roomId', …`.
 * For building a statement's text once, at module load.
 */
export const messageViewPairs = (row: string, authorNameSql: string) =>
  fields.map(([key, f]) => `'${key}', ${f.sql(row, authorNameSql)}`).join(",\n    ");

/** The view as a json object built by PostgreSQL. */
export const messageViewSql = (row: string, authorNameSql: string) =>
  `json_build_object(\n    ${messageViewPairs(row, authorNameSql)})`;

/**
 * The view as result columns named after its keys, in wire order: `m.id as "id", …`. A driver
 * builds each row's object with its columns' keys in order, so the row is the view as
 * json_build_object would build it, without PostgreSQL building json or the server parsing it.
 */
export const messageViewSelect = (row: string, authorNameSql: string) =>
  fields.map(([key, f]) => `${f.columnSql?.(row) ?? f.sql(row, authorNameSql)} as "${key}"`).join(", ");

/** The view of a Drizzle row: for the queries that are not on a hot path (search). */
export function messageViewOf(row: MessageRow, authorNameValue: string): MessageViewJson {
  // The entries are messageViewFields' own, so the object has exactly MessageViewJson's keys.
  return Object.fromEntries(fields.map(([key, f]) => [key, f.read(row, authorNameValue)])) as MessageViewJson;
}
