import { chmodSync, existsSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PGlite } from "@electric-sql/pglite";

// The running server shares its embedded database with the other entry points (`pnpm worker`,
// `pnpm admin:create`, `pnpm db:migrate`, `psql`) over a Unix socket in the data directory: the
// one process that holds the directory's lock opens PGlite, the others speak the PostgreSQL
// protocol to it. The name is PostgreSQL's own, so `psql -h <data dir>` finds it.
//
// Not @electric-sql/pglite-socket: its queue serialises single protocol messages, so a client's
// BEGIN … COMMIT, or Parse … Sync, interleaves with the server's own queries on PGlite's one
// session. Here a client holds PGlite's transaction lock for a whole turn, from its first message
// until PGlite answers ReadyForQuery outside a transaction; the server's queries and transactions
// take that same lock, so the two never mix.

export const DATA_DIR_SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${DATA_DIR_SOCKET_PORT}`;

/** Where the server listens for the data directory `dataDir` (absolute). */
export function dataDirSocketPath(dataDir: string): string {
  return join(dataDir, SOCKET_NAME);
}

/** Whether a server shares `dataDir` (its socket file exists). */
export function dataDirIsShared(dataDir: string): boolean {
  return existsSync(dataDirSocketPath(dataDir));
}

/**
 * Whether `dataDir` is shared, or comes to be within `ms`: a server takes the lock a second or two
 * before it opens the socket (PGlite's start, the migrations), and an operator who runs
 * `pnpm admin:create` just after `pnpm start` should not be told it shares nothing.
 */
export async function waitForDataDirShare(dataDir: string, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!dataDirIsShared(dataDir)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * A client that holds a turn (an open transaction, or a Parse without its Sync) blocks the
 * server's queries: one that goes quiet that long is disconnected and its transaction rolled back.
 */
export const IDLE_TURN_MS = 10_000;

const SSL_REQUEST = 80_877_103;
const GSS_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;
const PROTOCOL_3 = 196_608;
const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const STATUS_IDLE = 0x49; // 'I'

/** Tracks the status byte of the last ReadyForQuery in PGlite's output, across chunk borders. */
class ReadyForQueryScanner {
  private header = Buffer.alloc(0);
  private type = 0;
  private remaining = 0;
  lastStatus: number | null = null;

  feed(chunk: Uint8Array) {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        if (this.type === READY_FOR_QUERY && this.remaining === 1) this.lastStatus = chunk[i] ?? null;
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      const take = Math.min(5 - this.header.length, chunk.length - i);
      this.header = Buffer.concat([this.header, chunk.subarray(i, i + take)]);
      i += take;
      if (this.header.length === 5) {
        this.type = this.header[0] ?? 0;
        this.remaining = this.header.readInt32BE(1) - 4;
        this.header = Buffer.alloc(0);
      }
    }
  }
}

/** A Query message: 'Q', length, text, NUL. */
function queryMessage(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, "utf8");
  const header = Buffer.alloc(5);
  header[0] = 0x51;
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
const SYNC_MESSAGE = Uint8Array.from([0x53, 0, 0, 0, 4]);

export interface DataDirShare {
  path: string;
  close(): Promise<void>;
}

/**
 * Serves `pglite` on `<dataDir>/.s.PGSQL.5432` (mode 0600: only this OS user connects; PGlite
 * accepts any user name and password). Call it while holding the data directory's lock.
 */
export async function shareDataDir(
  pglite: PGlite,
  dataDir: string,
  options: { idleTurnMs?: number } = {},
): Promise<DataDirShare> {
  const idleTurnMs = options.idleTurnMs ?? IDLE_TURN_MS;
  const path = dataDirSocketPath(dataDir);
  // Left by a process that was killed: the lock is ours now, so the file is stale.
  rmSync(path, { force: true });
  const connections = new Map<Socket, Promise<void>>();
  const server = createServer((socket) => {
    const finished = serveConnection(pglite, socket, idleTurnMs);
    connections.set(socket, finished);
    void finished.then(() => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // The socket file is made by listen() itself, before it returns: under this umask it is never
    // open to other users, not even for the moment before the chmod below.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(path, 0o600);
  let closing: Promise<void> | undefined;
  return {
    path,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of connections.keys()) socket.destroy();
        // Each client's turn is rolled back and released before the caller closes PGlite.
        await Promise.all([stopped, ...connections.values()]);
        rmSync(path, { force: true });
      })();
      return closing;
    },
  };
}

/**
 * One client connection: its messages run in order, each turn under PGlite's transaction lock.
 * Resolves once the connection closed and its turn, if any, was given back.
 */
function serveConnection(pglite: PGlite, socket: Socket, idleTurnMs: number): Promise<void> {
  let buffer = Buffer.alloc(0);
  let started = false;
  let closed = false;
  let releaseTurn: (() => void) | null = null;
  let idleTimer: NodeJS.Timeout | undefined;
  const scanner = new ReadyForQueryScanner();
  // Messages run one after another: each waits for the previous one's output.
  let chain: Promise<void> = Promise.resolve();

  async function takeTurn() {
    if (releaseTurn) return;
    releaseTurn = await new Promise<() => void>((acquired) => {
      pglite
        ._runExclusiveTransaction(() => new Promise<void>((release) => acquired(release)))
        .catch(() => socket.destroy());
    });
  }

  function endTurn() {
    clearTimeout(idleTimer);
    const release = releaseTurn;
    releaseTurn = null;
    release?.();
  }

  async function run(message: Uint8Array) {
    await takeTurn();
    clearTimeout(idleTimer);
    await pglite.runExclusive(() =>
      pglite.execProtocolRawStream(message, {
        onRawData: (data) => {
          scanner.feed(data);
          if (!closed) socket.write(data);
        },
      }),
    );
    if (scanner.lastStatus === STATUS_IDLE) {
      endTurn();
    } else {
      idleTimer = setTimeout(() => socket.destroy(), idleTurnMs);
    }
    scanner.lastStatus = null;
  }

  /** The client went away in the middle of a turn: leave PGlite's session as it found it. */
  async function abandonTurn() {
    if (!releaseTurn) return;
    try {
      await pglite.runExclusive(async () => {
        await pglite.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => {} });
        if (pglite.isInTransaction()) {
          await pglite.execProtocolRawStream(queryMessage("ROLLBACK"), { onRawData: () => {} });
        }
      });
    } finally {
      endTurn();
    }
  }

  function enqueue(task: () => Promise<void>) {
    chain = chain.then(task).catch(() => {
      socket.destroy();
    });
  }

  /** Splits the buffer into whole messages: the startup packet has no type byte, the rest do. */
  function nextMessage(): Buffer | null {
    if (!started) {
      if (buffer.length < 8) return null;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return null;
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      return message;
    }
    if (buffer.length < 5) return null;
    const length = 1 + buffer.readInt32BE(1);
    if (buffer.length < length) return null;
    const message = buffer.subarray(0, length);
    buffer = buffer.subarray(length);
    return message;
  }

  socket.on("data", (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    for (let message = nextMessage(); message; message = nextMessage()) {
      const copy = new Uint8Array(message);
      if (!started) {
        const code = message.readInt32BE(4);
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          // No encryption on a local socket: the client goes on in the clear.
          socket.write("N");
          continue;
        }
        if (code === CANCEL_REQUEST || code !== PROTOCOL_3) {
          socket.destroy();
          return;
        }
        started = true;
      } else if (message[0] === TERMINATE) {
        // Not PGlite's to see: it would end the one session the server uses too.
        socket.end();
        return;
      }
      enqueue(() => run(copy));
    }
  });
  socket.on("error", () => socket.destroy());
  return new Promise<void>((resolve) => {
    socket.once("close", () => {
      closed = true;
      clearTimeout(idleTimer);
      enqueue(abandonTurn);
      void chain.then(resolve);
    });
  });
}
