import { WebSocket } from "ws";

/** Close code for a socket whose reader stopped reading. */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

type Data = Parameters<WebSocket["send"]>[0];
type SendOptions = { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean };
type SendCallback = (err?: Error) => void;

/**
 * A `ws` WebSocket that refuses to queue without bound: a client that stops reading while
 * events flow would otherwise grow the server's memory until it dies (seen: 60 → 646 MiB in 6 s).
 */
export function guardedSocketClass(maxBufferedBytes: number, onSlowConsumer?: () => void) {
  return class GuardedSocket extends WebSocket {
    /**
     * Sees each incoming message before the listeners (tRPC's adapter): returns what they get,
     * or null to keep it from them. See push-subscriptions.ts.
     */
    messageFilter: ((data: Buffer, isBinary: boolean) => Buffer | null) | null = null;

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === "message" && this.messageFilter && Buffer.isBuffer(args[0])) {
        const kept = this.messageFilter(args[0], args[1] === true);
        if (kept === null) return true;
        args[0] = kept;
      }
      return super.emit(event, ...args);
    }

    override send(data: Data, cb?: SendCallback): void;
    override send(data: Data, options: SendOptions, cb?: SendCallback): void;
    override send(data: Data, optionsOrCb?: SendOptions | SendCallback, cb?: SendCallback): void {
      if (this.readyState !== WebSocket.OPEN) return;
      if (typeof optionsOrCb === "function") super.send(data, optionsOrCb);
      else super.send(data, optionsOrCb ?? {}, cb);
      if (this.bufferedAmount > maxBufferedBytes) {
        onSlowConsumer?.();
        // terminate, not close: a close frame would queue behind the data the reader ignores.
        this.terminate();
      }
    }
  };
}

export type GuardedSocket = InstanceType<ReturnType<typeof guardedSocketClass>>;
