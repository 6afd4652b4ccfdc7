import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import pg from "pg";
import { Server } from "socket.io";
import { readConfig, serveBench } from "./ipc.ts";

// The Socket.IO peer: Express + Socket.IO + pg, written the way their docs show. A token checked
// against the sessions table on connect (a middleware), rooms through socket.join, the message
// inserted and then emitted to the room; a reconnecting client sends the last id it saw and gets
// what it missed (the Socket.IO tutorial's "server delivery" step).
const config = readConfig();
const pool = new pg.Pool({ connectionString: config.databaseUrl });
pool.on("error", (error) => process.stderr.write(`pg pool: ${error.message}\n`));

await pool.query(`
  create schema if not exists sio;
  create table if not exists sio.messages (
    id bigserial primary key,
    room_id uuid not null,
    user_id text not null,
    content text not null,
    client_message_id text not null,
    created_at timestamptz not null default now()
  );
  create index if not exists messages_room_id_idx on sio.messages (room_id, id);
`);

interface User {
  id: string;
  displayName: string;
}

async function userOf(token: unknown): Promise<User | null> {
  if (typeof token !== "string") return null;
  const { rows } = await pool.query<{ id: string; display_name: string }>(
    "select u.id, u.display_name from sessions s join users u on u.id = s.user_id where s.id = $1 and s.expires_at > now()",
    [token],
  );
  const row = rows[0];
  return row ? { id: row.id, displayName: row.display_name } : null;
}

async function isMember(roomId: string, userId: string): Promise<boolean> {
  const { rowCount } = await pool.query("select 1 from room_members where room_id = $1 and user_id = $2", [
    roomId,
    userId,
  ]);
  return (rowCount ?? 0) > 0;
}

const app = express();
app.use(express.json());

app.get("/readyz", async (_req, res) => {
  try {
    await pool.query("select 1");
    res.send("ok");
  } catch {
    res.status(503).send("database unavailable");
  }
});

// History: the same queries as Parley's chat.messages.list, on the same tables.
app.get("/history", async (req, res) => {
  const user = await userOf(req.headers.authorization?.replace(/^Bearer /, ""));
  if (!user) return void res.status(401).json({ error: "unauthorized" });
  const roomId = String(req.query.roomId);
  const limit = Math.min(100, Number(req.query.limit ?? 50));
  const room = await pool.query("select id, is_private from rooms where id = $1", [roomId]);
  if (room.rowCount === 0) return void res.status(404).json({ error: "not found" });
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

const httpServer = createServer(app);
const io = new Server(httpServer);

io.use(async (socket, next) => {
  try {
    const user = await userOf(socket.handshake.auth.token);
    if (!user) return next(new Error("unauthorized"));
    socket.data.user = user;
    socket.data.rooms = new Set<string>();
    next();
  } catch (error) {
    next(error as Error);
  }
});

io.on("connection", (socket) => {
  const user = socket.data.user as User;
  const rooms = socket.data.rooms as Set<string>;

  async function mayUse(roomId: string) {
    if (rooms.has(roomId)) return true;
    if (!(await isMember(roomId, user.id))) return false;
    rooms.add(roomId);
    return true;
  }

  socket.on(
    "join",
    async ({ roomId, offset }: { roomId: string; offset?: string }, ack: (r: object) => void) => {
      try {
        if (!(await mayUse(roomId))) return ack({ error: "forbidden" });
        socket.join(roomId);
        if (offset !== undefined && offset !== null) {
          const { rows } = await pool.query(
            `select m.id, m.room_id as "roomId", m.user_id as "userId", u.display_name as "authorName",
                  m.content, m.client_message_id as "clientMessageId", m.created_at as "createdAt"
             from sio.messages m join users u on u.id = m.user_id
            where m.room_id = $1 and m.id > $2 order by m.id`,
            [roomId, offset],
          );
          for (const row of rows) socket.emit("message", row);
        }
        ack({ ok: true });
      } catch {
        ack({ error: "failed" });
      }
    },
  );

  socket.on(
    "send",
    async (
      { roomId, content, clientMessageId }: { roomId: string; content: string; clientMessageId: string },
      ack: (r: object) => void,
    ) => {
      try {
        if (!(await mayUse(roomId))) return ack({ error: "forbidden" });
        const { rows } = await pool.query<{ id: string; created_at: Date }>(
          "insert into sio.messages (room_id, user_id, content, client_message_id) values ($1, $2, $3, $4) returning id, created_at",
          [roomId, user.id, content, clientMessageId],
        );
        const row = rows[0];
        if (!row) return ack({ error: "failed" });
        io.to(roomId).emit("message", {
          id: row.id,
          roomId,
          userId: user.id,
          authorName: user.displayName,
          content,
          clientMessageId,
          createdAt: row.created_at,
        });
        ack({ id: row.id });
      } catch {
        ack({ error: "failed" });
      }
    },
  );
});

await new Promise<void>((resolve) => httpServer.listen(config.port, "127.0.0.1", resolve));
serveBench((httpServer.address() as AddressInfo).port, async () => {
  await io.close();
  await pool.end();
});
