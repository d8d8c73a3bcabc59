/**
 * "The server" of an end-to-end test as a cluster: PostgreSQL, Redis, three
 * nodes and HAProxy in front (scripts/cluster-lib.ts), as `npm run cluster`
 * runs it; browsers connect to HAProxy. What a test does to the server maps
 * to the nodes:
 *
 * - `kill()`: SIGKILL to one node, the one holding the most connections
 *   (the crash its clients feel); its clients come back through HAProxy on
 *   the others.
 * - `stop()`: SIGTERM to every node (the service is down); `start()` starts
 *   every node that is not running, on its port, and waits until HAProxy
 *   has it in rotation.
 */
import { Cluster } from '../../scripts/cluster-lib.ts';
import type { ChatServer } from './server.ts';

export class ClusterTestServer implements ChatServer {
  private constructor(private readonly cluster: Cluster) {}

  static async create(env: Record<string, string>): Promise<ClusterTestServer> {
    return new ClusterTestServer(await Cluster.start({ nodes: 3, env }));
  }

  get port(): number {
    return this.cluster.haproxy.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.cluster.nodes.every((n) => n.running);
  }

  async start(): Promise<void> {
    await Promise.all(this.cluster.nodes.filter((n) => !n.running).map((n) => this.cluster.startNode(n.index)));
  }

  async stop(): Promise<number | null> {
    const exits = await Promise.all(this.cluster.nodes.filter((n) => n.running).map((n) => this.cluster.stopNode(n.index)));
    return exits.find((e) => e.code !== 0)?.code ?? (exits.length > 0 ? 0 : null);
  }

  async kill(): Promise<void> {
    await this.cluster.killNode(await this.busiest());
  }

  async restart(opts: { hard?: boolean } = {}): Promise<void> {
    if (opts.hard) await this.kill();
    else await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.cluster.stop();
  }

  log(): string {
    return this.cluster.nodes.map((n) => `--- ${n.name}\n${n.process?.log() ?? ''}`).join('\n');
  }

  /** The running node with the most socket connections (the first, on a tie). */
  private async busiest(): Promise<number> {
    let best = -1;
    let most = -1;
    for (const n of this.cluster.nodes) {
      if (!n.running) continue;
      const held = (await this.cluster.metric(n.index, 'fiberchat_connections', '{transport="websocket"}')) + (await this.cluster.metric(n.index, 'fiberchat_connections', '{transport="long-polling"}'));
      const count = Number.isNaN(held) ? 0 : held;
      if (count > most) [best, most] = [n.index, count];
    }
    if (best < 0) throw new Error('no node is running');
    return best;
  }
}
