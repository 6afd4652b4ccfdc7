import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import pg from "pg";
import { type WebSocket, WebSocketServer } from "ws";
import { readConfig, serveBench } from "./ipc.ts";

// The floor: bare `ws` + pg. Insert, JSON.stringify once, send the same string to every socket
// of the room. No framework, no per-subscriber work beyond ws.send: the practical limit for Node.
const config = readConfig();
const pool = new pg.Pool({ connectionString: config.databaseUrl });
pool.on("error", (error) => process.stderr.write(`pg pool: ${error.message}\n`));

await pool.query(`
  create schema if not exists floor;
  create table if not exists floor.messages (
    id bigserial primary key,
    room_id uuid not null,
    user_id text not null,
    content text not null,
    client_message_id text not null,
    created_at timestamptz not null default now()
  );
  create index if not exists messages_room_id_idx on floor.messages (room_id, id);
`);

interface User {
  id: string;
  displayName: string;
}

async function userOf(token: string | null | undefined): Promise<User | null> {
  if (!token) return null;
  const { rows } = await pool.query<{ id: string; display_name: string }>(
    "select u.id, u.display_name from sessions s join users u on u.id = s.user_id where s.id = $1 and s.expires_at > now()",
    [token],
  );
  const row = rows[0];
  return row ? { id: row.id, displayName: row.display_name } : null;
}

const app = express();
app.get("/readyz", async (_req, res) => {
  try {
    await pool.query("select 1");
    res.send("ok");
  } catch {
    res.status(503).send("database unavailable");
  }
});

// The same queries as Parley's chat.messages.list, behind a bare Express route.
app.get("/history", async (req, res) => {
  const user = await userOf(req.headers.authorization?.replace(/^Bearer /, ""));
  if (!user) return void res.status(401).end();
  const roomId = String(req.query.roomId);
  const limit = Math.min(100, Number(req.query.limit ?? 50));
  const room = await pool.query("select id, is_private from rooms where id = $1", [roomId]);
  if (room.rowCount === 0) return void res.status(404).end();
  const { rows } = await pool.query(
    `select m.id, m.room_id, m.seq, m.user_id, u.display_name as author_name, m.content,
            m.client_message_id, m.created_at, m.edited_at, m.deleted_at
       from messages m join users u on u.id = m.user_id
      where m.room_id = $1 order by m.seq desc limit $2`,
    [roomId, limit + 1],
  );
  const page = rows.slice(0, limit);
  const reactions = await pool.query(
    `select message_id, emoji, count(*)::int as count, bool_or(user_id = $2) as mine
       from reactions where message_id = any($1) group by message_id, emoji order by emoji`,
    [page.map((r) => r.id), user.id],
  );
  res.json({ items: page, reactions: reactions.rows, hasMore: rows.length > limit });
});

const server = createServer(app);
const wss = new WebSocketServer({ server });
const rooms = new Map<string, Set<WebSocket>>();

type Incoming =
  | { t: "sub"; room: string; after?: string }
  | { t: "send"; room: string; content: string; cid: string };

wss.on("connection", async (ws, req) => {
  const token = new URL(req.url ?? "/", "http://localhost").searchParams.get("token");
  const user = await userOf(token).catch(() => null);
  if (!user) return ws.close(4401, "unauthorized");
  // Rooms this socket may use (membership checked once), and those it listens to.
  const allowed = new Set<string>();
  const listening = new Set<string>();
  const mayUse = async (roomId: string) => {
    if (allowed.has(roomId)) return true;
    const { rowCount } = await pool.query("select 1 from room_members where room_id = $1 and user_id = $2", [
      roomId,
      user.id,
    ]);
    if ((rowCount ?? 0) === 0) return false;
    allowed.add(roomId);
    return true;
  };

  ws.on("message", async (data) => {
    let msg: Incoming;
    try {
      msg = JSON.parse(data.toString()) as Incoming;
    } catch {
      return ws.close(1003, "bad message");
    }
    try {
      if (msg.t === "sub") {
        if (!(await mayUse(msg.room))) return ws.send(JSON.stringify({ t: "error", room: msg.room }));
        let set = rooms.get(msg.room);
        if (!set) {
          set = new Set();
          rooms.set(msg.room, set);
        }
        set.add(ws);
        listening.add(msg.room);
        if (msg.after !== undefined) {
          const { rows } = await pool.query(
            `select m.id, m.room_id as "roomId", m.user_id as "userId", u.display_name as "authorName",
                    m.content, m.client_message_id as "clientMessageId", m.created_at as "createdAt"
               from floor.messages m join users u on u.id = m.user_id
              where m.room_id = $1 and m.id > $2 order by m.id`,
            [msg.room, msg.after],
          );
          for (const row of rows) ws.send(JSON.stringify({ t: "msg", ...row }));
        }
        ws.send(JSON.stringify({ t: "subbed", room: msg.room }));
      } else if (msg.t === "send") {
        if (!(await mayUse(msg.room))) return ws.send(JSON.stringify({ t: "nack", cid: msg.cid }));
        const { rows } = await pool.query<{ id: string; created_at: Date }>(
          "insert into floor.messages (room_id, user_id, content, client_message_id) values ($1, $2, $3, $4) returning id, created_at",
          [msg.room, user.id, msg.content, msg.cid],
        );
        const row = rows[0];
        if (!row) return;
        const text = JSON.stringify({
          t: "msg",
          id: row.id,
          roomId: msg.room,
          userId: user.id,
          authorName: user.displayName,
          content: msg.content,
          clientMessageId: msg.cid,
          createdAt: row.created_at,
        });
        for (const peer of rooms.get(msg.room) ?? []) peer.send(text);
        ws.send(JSON.stringify({ t: "ack", cid: msg.cid, id: row.id }));
      }
    } catch {
      if (msg.t === "send") ws.send(JSON.stringify({ t: "nack", cid: msg.cid }));
    }
  });

  ws.on("close", () => {
    for (const roomId of listening) {
      const set = rooms.get(roomId);
      set?.delete(ws);
      if (set?.size === 0) rooms.delete(roomId);
    }
  });
  ws.send(JSON.stringify({ t: "ready" }));
});

await new Promise<void>((resolve) => server.listen(config.port, "127.0.0.1", resolve));
serveBench((server.address() as AddressInfo).port, async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.end();
});
