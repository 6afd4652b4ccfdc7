import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** What RawSocketClient needs of a WebSocket, met by `ws` and by LeanSocket. */
export interface FrameSocket {
  isOpen(): boolean;
  send(text: string): void;
  pause(): void;
  resume(): void;
  /** Starts the closing handshake; onClose follows. */
  close(): void;
  /** Drops the connection at once (no closing handshake). */
  terminate(): void;
}

export interface FrameHandlers {
  onOpen(): void;
  onFrame(payload: Buffer): void;
  /** Once, when the connection is gone: the close code the server sent, or 1006. */
  onClose(code: number): void;
}

const sharedReadBuffer = Buffer.alloc(256 * 1024);
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/**
 * A WebSocket client reduced to what a counting subscriber needs, on a plain TCP socket: the
 * upgrade request, unfragmented frames from the server read in place (a subarray of the read
 * chunk, no copy, no stream machinery), text frames out with a zero mask (valid: the spec asks
 * for a mask, not a secret one). With `ws`, the generator spent more CPU per delivery than the
 * servers it measured; this keeps its cost per delivery to the read and a few comparisons.
 * No extensions, no fragmented messages (none of the three servers sends them unrequested).
 */
export class LeanSocket implements FrameSocket {
  private readonly socket: Socket;
  private open = false;
  private upgraded = false;
  private pending: Buffer | null = null;
  private closeCode = 1006;
  private closed = false;

  constructor(
    url: string,
    private readonly handlers: FrameHandlers,
  ) {
    const target = new URL(url);
    this.socket = connect({
      host: target.hostname,
      port: Number(target.port),
      // Reads land in one buffer shared by every LeanSocket (each read is consumed before the
      // callback returns; a partial frame is copied out): no allocation and no stream push per read.
      onread: {
        buffer: sharedReadBuffer,
        callback: (bytes: number, buffer: Uint8Array) => {
          this.read(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
          return true;
        },
      },
    });
    this.socket.setNoDelay(true);
    this.socket.on("connect", () => {
      this.socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.open = false;
      if (this.closed) return;
      this.closed = true;
      this.handlers.onClose(this.closeCode);
    });
  }

  private read(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    if (!this.upgraded) {
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) {
        this.pending = Buffer.from(data);
        return;
      }
      // "HTTP/1.1 101": anything else is a refused upgrade.
      if (data[9] !== 0x31 || data[10] !== 0x30 || data[11] !== 0x31) {
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      this.open = true;
      data = data.subarray(end + 4);
      this.handlers.onOpen();
    }
    let at = 0;
    while (data.length - at >= 2) {
      const first = data[at] ?? 0;
      let length = (data[at + 1] ?? 0) & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (data.length - at < header + length) break;
      const payload = data.subarray(at + header, at + header + length);
      at += header + length;
      const opcode = first & 0x0f;
      if (opcode === OPCODE_CLOSE) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.socket.end();
      } else if (opcode === OPCODE_PING) {
        this.write(OPCODE_PONG, payload);
      } else if (opcode !== OPCODE_PONG) {
        this.handlers.onFrame(payload);
      }
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
  }

  private write(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const header = Buffer.alloc(length < 126 ? 6 : length < 65536 ? 8 : 14);
    header[0] = 0x80 | opcode;
    if (length < 126) header[1] = 0x80 | length;
    else if (length < 65536) {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    // The last four header bytes are the mask, left at zero: the payload goes out unchanged.
    this.socket.write(Buffer.concat([header, payload]));
  }

  isOpen(): boolean {
    return this.open;
  }

  send(text: string): void {
    if (this.open) this.write(0x1, Buffer.from(text));
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    if (this.open) this.write(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]));
    this.open = false;
    this.socket.end();
  }

  terminate(): void {
    this.closed = true;
    this.open = false;
    this.socket.destroy();
  }
}
