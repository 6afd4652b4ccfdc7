import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createDb, migrate } from "@parley/db";
import { type PgCluster, startPgCluster } from "@parley/testing/pg-cluster";
import pg from "pg";

/** The bench's PostgreSQL: one throwaway cluster (on the load generator's core), one database. */
export interface BenchDatabase {
  cluster: PgCluster;
  /** The database every server of a run shares (Parley's tables in public, the peers' in sio/floor). */
  url: string;
  /** For fresh databases (cold start). */
  baseUrl: string;
  postmasterPid(): number;
  pool: pg.Pool;
  close(): Promise<void>;
}

export async function startBenchDatabase(): Promise<BenchDatabase> {
  const cluster = await startPgCluster();
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query("create database bench");
  await admin.end();
  const url = cluster.url.replace(/\/postgres$/, "/bench");
  // Parley's schema, through its own migrations: the peers read its users, sessions and rooms.
  const handle = await createDb({ url });
  await migrate(handle);
  await handle.close();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("error", () => {});
  return {
    cluster,
    url,
    baseUrl: cluster.url,
    postmasterPid: () => Number(readFileSync(join(cluster.dataDir, "postmaster.pid"), "utf8").split("\n")[0]),
    pool,
    async close() {
      await pool.end();
      await cluster.destroy();
    },
  };
}

export async function createFreshDatabase(db: BenchDatabase, name: string): Promise<string> {
  await db.pool.query(`create database ${name}`);
  return db.baseUrl.replace(/\/postgres$/, `/${name}`);
}

export const userId = (i: number) => `bench-u${i}`;
/** Session ids are the bearer tokens (lucia v3 stores them as they are). */
export const tokenOf = (i: number) => `bt${createHash("md5").update(`bench${i}`).digest("hex")}`;

export interface Layout {
  subscribers: number;
  senders: number;
  /** First sender's user index (senders follow the subscribers). */
  senderBase: number;
  fanoutRoom: string;
  stormRoom: string;
  slowRoom: string;
  historyRoom: string;
  manyRooms: string[];
  idleRooms: string[];
}

export interface LayoutSizes {
  subscribers: number;
  senders: number;
  fanoutMembers: number;
  stormMembers: number;
  manyRooms: number;
  manyRoomSubscribers: number;
  manyRoomSenders: number;
  idleRooms: number;
  historyMessages: number;
}

/**
 * Users, sessions, rooms and memberships, inserted directly with Parley's schema (argon2 at
 * registration would take minutes for 5,000 users and measures nothing here). Sessions expire
 * in 13 days, so lucia never needs to extend (write) them during a run.
 */
export async function seed(db: BenchDatabase, sizes: LayoutSizes): Promise<Layout> {
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  const total = sizes.subscribers + sizes.senders;
  await q(
    `insert into users (id, email, display_name, password_hash, email_verified)
     select 'bench-u' || i, 'u' || i || '@bench.test', 'User ' || i, '!', true from generate_series(0, $1 - 1) i`,
    [total],
  );
  await q(
    `insert into sessions (id, user_id, expires_at)
     select 'bt' || md5('bench' || i), 'bench-u' || i, now() + interval '13 days' from generate_series(0, $1 - 1) i`,
    [total],
  );
  const senderBase = sizes.subscribers;
  const room = async (name: string) => {
    const { rows } = await q(`insert into rooms (name, owner_id) values ($1, $2) returning id`, [
      name,
      userId(0),
    ]);
    return String(rows[0]?.id);
  };
  const members = (roomId: string, from: number, count: number) =>
    q(
      `insert into room_members (room_id, user_id) select $1, 'bench-u' || i from generate_series($2::int, $2::int + $3::int - 1) i
       on conflict do nothing`,
      [roomId, from, count],
    );
  const withSenders = async (roomId: string, count: number) => {
    await members(roomId, 0, count);
    await members(roomId, senderBase, sizes.senders);
  };

  const fanoutRoom = await room("fan-out");
  await withSenders(fanoutRoom, sizes.fanoutMembers);
  const slowRoom = await room("slow consumer");
  await withSenders(slowRoom, sizes.fanoutMembers);
  const stormRoom = await room("reconnect storm");
  await withSenders(stormRoom, sizes.stormMembers);

  const manyRooms: string[] = [];
  for (let k = 0; k < sizes.manyRooms; k++) {
    const id = await room(`many ${k}`);
    await members(id, k * sizes.manyRoomSubscribers, sizes.manyRoomSubscribers);
    await members(id, senderBase + k * sizes.manyRoomSenders, sizes.manyRoomSenders);
    manyRooms.push(id);
  }

  const idleRooms: string[] = [];
  const perIdleRoom = Math.ceil(sizes.subscribers / sizes.idleRooms);
  for (let k = 0; k < sizes.idleRooms; k++) {
    const id = await room(`idle ${k}`);
    await members(id, k * perIdleRoom, Math.min(perIdleRoom, sizes.subscribers - k * perIdleRoom));
    idleRooms.push(id);
  }

  // History: messages from ten authors, every fourth with two reactions.
  const historyRoom = await room("history");
  await members(historyRoom, 0, 10);
  await q(
    `insert into messages (room_id, seq, user_id, content, client_message_id)
     select $1, s, 'bench-u' || (s % 10), 'history message ' || s || ' with some ordinary chat text in it', 'h' || s
       from generate_series(1, $2::int) s`,
    [historyRoom, sizes.historyMessages],
  );
  await q(`update rooms set last_seq = $2 where id = $1`, [historyRoom, sizes.historyMessages]);
  await q(
    `insert into reactions (message_id, user_id, emoji)
     select m.id, 'bench-u' || r, e from messages m, generate_series(1, 2) r, (values ('👍')) v(e)
      where m.room_id = $1 and m.seq % 4 = 0`,
    [historyRoom],
  );
  await q("analyze");
  return {
    subscribers: sizes.subscribers,
    senders: sizes.senders,
    senderBase,
    fanoutRoom,
    stormRoom,
    slowRoom,
    historyRoom,
    manyRooms,
    idleRooms,
  };
}

/** Index scans on a table so far (the catch-up queries of a reconnect storm hit one index each). */
export async function indexScans(db: BenchDatabase, table: string, schemaName = "public"): Promise<number> {
  const { rows } = await db.pool.query(
    "select coalesce(idx_scan, 0) + coalesce(seq_scan, 0) as n from pg_stat_user_tables where schemaname = $1 and relname = $2",
    [schemaName, table],
  );
  return Number(rows[0]?.n ?? 0);
}
