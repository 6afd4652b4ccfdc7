import { readFileSync } from "node:fs";

/**
 * Just enough of a pcap reader for `--wire-many-rooms`: tcpdump's classic format on the loopback
 * interface (Ethernet framing, IPv4, TCP), each direction of each connection put back together
 * as a byte stream. Loopback neither loses nor reorders, so a segment whose sequence number is
 * behind the stream (a retransmission) is dropped and nothing else is reordered.
 */

/** One direction of a TCP connection, e.g. "127.0.0.1:41234>127.0.0.1:5432". */
export interface Flow {
  key: string;
  srcPort: number;
  dstPort: number;
}

export interface Segment {
  flow: Flow;
  /** Capture time, CLOCK_REALTIME in ns. */
  tNs: number;
  payload: Buffer;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

/** Every TCP segment with a payload, in capture order. */
export function readTcpSegments(file: string): Segment[] {
  const data = readFileSync(file);
  const magic = data.readUInt32LE(0);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) throw new Error(`${file}: not a little-endian pcap file`);
  const fraction = magic === MAGIC_NS ? 1 : 1000;
  const linkType = data.readUInt32LE(20);
  // 1: Ethernet (what tcpdump -i lo writes on Linux); 113: Linux cooked capture (-i any).
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : -1;
  if (linkHeader < 0) throw new Error(`${file}: link type ${linkType} is not read here`);
  const flows = new Map<string, Flow>();
  const nextSeq = new Map<Flow, number>();
  const segments: Segment[] = [];
  for (let at = 24; at + 16 <= data.length; ) {
    const tNs = data.readUInt32LE(at) * 1e9 + data.readUInt32LE(at + 4) * fraction;
    const length = data.readUInt32LE(at + 8);
    const packet = data.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    const ip = packet.subarray(linkHeader);
    const version = ip[0] ?? 0;
    if (ip.length < 20 || version >> 4 !== 4 || ip[9] !== 6) continue; // IPv4 carrying TCP only
    const ipHeader = (version & 0x0f) * 4;
    const ipLength = ip.readUInt16BE(2);
    const tcp = ip.subarray(ipHeader, ipLength);
    const tcpHeader = ((tcp[12] ?? 0) >> 4) * 4;
    const payload = tcp.subarray(tcpHeader);
    if (payload.length === 0) continue;
    const srcPort = tcp.readUInt16BE(0);
    const dstPort = tcp.readUInt16BE(2);
    const key = `${ip.subarray(12, 16).join(".")}:${srcPort}>${ip.subarray(16, 20).join(".")}:${dstPort}`;
    let flow = flows.get(key);
    if (!flow) {
      flow = { key, srcPort, dstPort };
      flows.set(key, flow);
    }
    const seq = tcp.readUInt32BE(4);
    const expected = nextSeq.get(flow);
    // A retransmission (behind the stream), modulo 2^32.
    if (expected !== undefined && ((seq - expected) | 0) < 0) continue;
    nextSeq.set(flow, (seq + payload.length) >>> 0);
    segments.push({ flow, tNs, payload });
  }
  return segments;
}

/** One WebSocket frame's payload, unmasked, stamped with the segment that completed it. */
export interface WsFrame {
  flow: Flow;
  tNs: number;
  opcode: number;
  payload: Buffer;
}

/**
 * WebSocket frames of every flow that upgraded (its first bytes an HTTP request or a
 * "101 Switching Protocols" reply); flows that did not (HTTP, long-polling) give none.
 */
export class WsFrames {
  private readonly pending = new Map<Flow, Buffer>();
  private readonly upgraded = new Map<Flow, boolean>();

  /** The frames this segment completes (none for flows that are not WebSocket). */
  push(segment: Segment): WsFrame[] {
    const { flow } = segment;
    const pending = this.pending.get(flow);
    let buffer = pending?.length ? Buffer.concat([pending, segment.payload]) : segment.payload;
    let state = this.upgraded.get(flow);
    if (state === undefined) {
      // The handshake: skip to the end of the HTTP head; only a request or a 101 goes on.
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) {
        this.pending.set(flow, buffer);
        return [];
      }
      const head = buffer.subarray(0, end).toString("latin1");
      state = /^GET /.test(head) || /^HTTP\/1\.1 101/.test(head);
      this.upgraded.set(flow, state);
      buffer = buffer.subarray(end + 4);
    }
    if (!state) return [];
    const frames: WsFrame[] = [];
    for (;;) {
      if (buffer.length < 2) break;
      const opcode = (buffer[0] ?? 0) & 0x0f;
      const masked = ((buffer[1] ?? 0) & 0x80) !== 0;
      let length = (buffer[1] ?? 0) & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffer.length < 4) break;
        length = buffer.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (buffer.length < 10) break;
        length = Number(buffer.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (buffer.length < at + length) break;
      const payload = Buffer.from(buffer.subarray(at, at + length));
      if (masked)
        for (let i = 0; i < payload.length; i++)
          payload[i] = (payload[i] ?? 0) ^ (buffer[maskAt + (i % 4)] ?? 0);
      frames.push({ flow, tNs: segment.tNs, opcode, payload });
      buffer = buffer.subarray(at + length);
    }
    this.pending.set(flow, buffer);
    return frames;
  }
}
