import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMessage {
  jobId: string | null;
  to: string[];
  raw: string;
}

export interface SmtpSink {
  url: string;
  /** Messages the sink answered 250 to: what counts as delivered. */
  accepted(): ReceivedMessage[];
  /** Messages whose DATA arrived but that the sink never answered (held, then the client went away). */
  held(): ReceivedMessage[];
  /** While true, every message's DATA is read and then left unanswered, like a stalled server. */
  setHolding(holding: boolean): void;
  /** Resolves when `count` messages in all have been held. */
  heldAtLeast(count: number): Promise<void>;
  /** Resolves when `count` messages in all have been accepted. */
  acceptedAtLeast(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A real SMTP server on a free loopback port (smtp-server, no TLS, no auth) that keeps what it gets. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const accepted: ReceivedMessage[] = [];
  const held: ReceivedMessage[] = [];
  let holding = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of waiters) check();
  };
  const until = (predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!predicate()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    closeTimeout: 100,
    onData(stream, session, callback) {
      let raw = "";
      stream.setEncoding("utf8");
      // A worker killed mid-DATA cuts the stream: expected here, and not this sink's failure.
      stream.on("error", () => {});
      stream.on("data", (chunk: string) => {
        raw += chunk;
      });
      stream.on("end", () => {
        const message: ReceivedMessage = {
          jobId: /^X-Parley-Job:\s*(\S+)/im.exec(raw)?.[1] ?? null,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw,
        };
        if (holding) {
          held.push(message);
        } else {
          accepted.push(message);
          callback();
        }
        notify();
      });
    },
  });
  // The tests kill workers mid-send: their connections reset (ECONNRESET), which smtp-server
  // reports as an 'error' event that would otherwise be unhandled.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted: () => [...accepted],
    held: () => [...held],
    setHolding(value) {
      holding = value;
    },
    heldAtLeast: (count) => until(() => held.length >= count),
    acceptedAtLeast: (count) => until(() => accepted.length >= count),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
