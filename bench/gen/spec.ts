/** What the orchestrator asks a generator process to do, and what it answers. */

export type Transport = 'websocket' | 'polling' | 'ajax';

export interface Common {
  port: number;
  /** Session tokens to share among connections (Fiberchat); peers accept anything. */
  tokens: string[];
  /** Separate identities for publishers. */
  publisherTokens: string[];
  /** Hard limit for the whole run; the generator exits by itself past it. */
  deadlineMs: number;
}

export type Spec = Common &
  (
    | {
        kind: 'fanout';
        /**
         * Every target to measure, all connected at once; measurement windows
         * alternate among them for `rounds` rounds, so a drift in background
         * load hits every target alike.
         */
        /** `transport`: how that target's subscribers connect (WebSocket unless said). */
        targets: Array<{ name: string; port: number; tokens: string[]; publisherTokens: string[]; transport?: 'websocket' | 'sse' }>;
        rounds: number;
        subscribers: number;
        publishers: number;
        inFlight: number;
        textBytes: number;
        warmupMs: number;
        measureMs: number;
      }
    | {
        kind: 'latency';
        transport: Transport;
        subscribers: number;
        publishers: number;
        /** Messages per second, all publishers together, open loop. */
        rate: number;
        textBytes: number;
        warmupMs: number;
        measureMs: number;
        /** Ajax: poll interval while active (the browser client's `activeMs`). */
        ajaxIntervalMs: number;
        /** The room (default `latency`). */
        room?: string;
        /** Where publishers send (default `port`): another node of a cluster, for cross-node latency. */
        publisherPort?: number;
      }
    | {
        kind: 'idle';
        transport: 'websocket' | 'polling' | 'sse';
        connections: number;
        roomSize: number;
        /** Pause between the last join and the memory sample, for the server to finish with the burst. */
        settleMs: number;
      }
    | {
        kind: 'capacity';
        connections: number;
        roomSize: number;
        /** One connection in this many chats. */
        chatEvery: number;
        chatIntervalMs: number;
        textBytes: number;
        measureMs: number;
      }
    | { kind: 'join'; room: string; fill: number; textBytes: number; joins: number; settleMs: number }
    | {
        kind: 'jitter';
        subscribers: number;
        publishers: number;
        rate: number;
        textBytes: number;
        durationMs: number;
        killEveryMs: number;
        offlineMs: number;
      }
  );

/** Generator → orchestrator. */
export type GenMessage =
  | { type: 'mark'; id: number; name: string; target?: string }
  | { type: 'result'; data: Record<string, unknown> }
  | { type: 'log'; text: string };

/** Orchestrator → generator: the answer to a mark, with what it measured then. */
export interface MarkReply {
  type: 'marked';
  id: number;
  data: Record<string, unknown>;
}
