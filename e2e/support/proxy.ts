/**
 * A hostile HTTP proxy on loopback, standing in for the corporate proxies
 * and middleboxes that break realtime transports. It forwards plain HTTP to
 * the test server and, depending on its policy (changeable while running):
 *
 * - `websocket`: `pass` upgrades through, `refuse` answers them 403, or
 *   `hang` accepts the connection and never answers (a proxy that swallows
 *   upgrades);
 * - `slowResponses`: a response the server has not started within
 *   `slowAfterMs` (a long poll waiting for data) is `pass`ed, `cut` (the
 *   connection is dropped, like a proxy's short read timeout) or `hold`
 *   (never forwarded, like a buffering proxy that stalls). Short requests
 *   such as Ajax polls are answered long before that and pass. A stream
 *   (Server-Sent Events) starts at once and is not a slow response;
 * - `bodies`: `stream` forwards a response's body as it arrives; `buffer`
 *   forwards it only once the server has ended it or `BUFFER_BYTES` have
 *   gathered, like a proxy with response buffering on (nginx's
 *   `proxy_buffering`, many antivirus gateways): every ordinary response
 *   passes, an event stream never reaches the browser.
 *
 * Only node:http and node:net; it listens on 127.0.0.1 and `close()` ends
 * every socket it touched.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface ProxyPolicy {
  websocket: 'pass' | 'refuse' | 'hang';
  slowResponses: 'pass' | 'cut' | 'hold';
  /** A response not started within this many ms counts as a long poll. */
  slowAfterMs: number;
  bodies: 'stream' | 'buffer';
}

/** How much a buffering proxy gathers before it forwards anything of a body that has not ended. */
export const BUFFER_BYTES = 64 * 1024;

export const OPEN_POLICY: ProxyPolicy = { websocket: 'pass', slowResponses: 'pass', slowAfterMs: 1000, bodies: 'stream' };

export interface ProxyStats {
  requests: number;
  upgradesRefused: number;
  upgradesHung: number;
  upgradesPassed: number;
  responsesCut: number;
  responsesHeld: number;
  /** Responses whose body was buffered (forwarded whole, or not yet). */
  bodiesBuffered: number;
}

export class TestProxy {
  readonly stats: ProxyStats = {
    requests: 0,
    upgradesRefused: 0,
    upgradesHung: 0,
    upgradesPassed: 0,
    responsesCut: 0,
    responsesHeld: 0,
    bodiesBuffered: 0,
  };
  private readonly sockets = new Set<Socket>();
  private policy: ProxyPolicy;

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    policy: ProxyPolicy,
    readonly port: number,
  ) {
    this.policy = policy;
  }

  /** Starts a proxy in front of `127.0.0.1:targetPort`. */
  static async start(targetPort: number, policy: Partial<ProxyPolicy> = {}): Promise<TestProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const proxy = new TestProxy(server, targetPort, { ...OPEN_POLICY, ...policy }, port);
    server.on('connection', (socket) => proxy.track(socket));
    server.on('request', (req, res) => proxy.forward(req, res));
    server.on('upgrade', (req, socket, head) => proxy.upgrade(req, socket as Socket, head));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Changes the policy for requests from now on ("the block is lifted"). */
  set(policy: Partial<ProxyPolicy>): void {
    this.policy = { ...this.policy, ...policy };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.sockets.delete(socket));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    const { slowResponses, slowAfterMs, bodies } = this.policy;
    let started = false;
    let held = false;
    const upstream = request({
      host: '127.0.0.1',
      port: this.targetPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    });
    upstream.on('socket', (s) => this.track(s));
    const timer =
      slowResponses === 'pass'
        ? null
        : setTimeout(() => {
            if (started) return;
            if (slowResponses === 'cut') {
              this.stats.responsesCut++;
              res.destroy();
              upstream.destroy();
            } else {
              // Keep the client waiting; whatever the server sends is dropped.
              this.stats.responsesHeld++;
              held = true;
            }
          }, slowAfterMs);
    upstream.on('response', (up) => {
      started = true;
      if (timer) clearTimeout(timer);
      if (held) return void up.resume();
      if (bodies === 'stream') {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      this.stats.bodiesBuffered++;
      const chunks: Buffer[] = [];
      let size = 0;
      let flushed = false;
      const flush = () => {
        if (flushed) return;
        flushed = true;
        const headers = { ...up.headers };
        delete headers['content-length'];
        res.writeHead(up.statusCode ?? 502, headers);
        for (const c of chunks) res.write(c);
        up.pipe(res);
      };
      up.on('data', (c: Buffer) => {
        if (flushed) return;
        chunks.push(c);
        size += c.length;
        if (size >= BUFFER_BYTES) {
          up.pause();
          flush();
          up.resume();
        }
      });
      up.once('end', () => {
        if (!flushed) {
          flushed = true;
          const headers = { ...up.headers };
          delete headers['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(size) });
          res.end(Buffer.concat(chunks));
        }
      });
    });
    upstream.on('error', () => {
      if (timer) clearTimeout(timer);
      if (held) return;
      // The server is down: answer like a gateway would.
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      upstream.destroy();
    });
    req.pipe(upstream);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    switch (this.policy.websocket) {
      case 'refuse':
        this.stats.upgradesRefused++;
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      case 'hang':
        this.stats.upgradesHung++;
        return; // Tracked, and destroyed by close() if the client does not give up first.
      case 'pass': {
        this.stats.upgradesPassed++;
        const upstream = connect(this.targetPort, '127.0.0.1', () => {
          const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
          for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
          upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
          if (head.length > 0) upstream.write(head);
          socket.pipe(upstream).pipe(socket);
        });
        this.track(upstream);
        upstream.once('close', () => socket.destroy());
        socket.once('close', () => upstream.destroy());
        return;
      }
    }
  }
}
