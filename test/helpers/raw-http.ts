// A GET over a plain TCP socket (node:net) whose reading the test controls: it can stop reading
// (the kernel's buffers fill and the server's writes wait, as with a slow client) and go on later.
// fetch cannot: it reads the body into memory as fast as it arrives.
import { connect, type Socket } from "node:net";

export interface RawResponse {
  /** Status line and headers as received. */
  head: string;
  /** Resolves with the body received so far once `check` holds for it (chunked encoding removed). */
  until(check: (body: string) => boolean): Promise<string>;
  /** Stops reading from the socket. */
  pause(): void;
  /** Reads on to the end of the response; the whole body. */
  rest(): Promise<string>;
  close(): void;
}

/** Sends `GET path` to 127.0.0.1:port with `headers` and returns once the head has arrived. */
export async function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const socket: Socket = connect(port, "127.0.0.1");
  const lines = [`GET ${path} HTTP/1.1`, "host: 127.0.0.1", "connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  let raw = Buffer.alloc(0);
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on("data", (d: Buffer) => {
    raw = Buffer.concat([raw, d]);
    wake();
  });
  socket.on("end", () => {
    ended = true;
    wake();
  });
  socket.on("error", () => {
    ended = true;
    wake();
  });
  const next = () => new Promise<void>((resolve) => waiters.push(resolve));
  while (raw.indexOf("\r\n\r\n") < 0) {
    if (ended) throw new Error("connection closed before the head");
    await next();
  }
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, split).toString("latin1");
  const chunked = /^transfer-encoding:\s*chunked/im.test(head);
  const body = () => {
    const rest = raw.subarray(split + 4);
    if (!chunked) return rest.toString("utf8");
    const parts: Buffer[] = [];
    for (let at = 0; ;) {
      const eol = rest.indexOf("\r\n", at);
      if (eol < 0) break;
      const size = parseInt(rest.subarray(at, eol).toString("latin1"), 16);
      if (!size || eol + 2 + size > rest.length) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    return Buffer.concat(parts).toString("utf8");
  };
  return {
    head,
    async until(check) {
      for (;;) {
        const b = body();
        if (check(b)) return b;
        if (ended) throw new Error(`the response ended before the condition held (${b.length} bytes)`);
        await next();
      }
    },
    pause: () => socket.pause(),
    async rest() {
      socket.resume();
      while (!ended) await next();
      return body();
    },
    close: () => socket.destroy(),
  };
}
