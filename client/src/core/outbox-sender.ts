/**
 * Sends the outbox: local echo at once, one request at a time in typed order,
 * retries with the same clientId, and persistence so a reload loses nothing.
 */
import { CaptionText, MessageText, type Attachment, type Message } from '../../../shared/protocol.ts';
import { retryDelay } from './backoff.ts';
import type { ChatStore } from './chat-store.ts';
import type { Link } from './link.ts';
import {
  ackedMessage,
  newEntry,
  nextToSend,
  recordFailure,
  removeEntry,
  resetWaits,
  retryEntry,
  settleFromLog,
  type OutboxEntry,
} from './outbox.ts';
import type { OutboxStorage } from './outbox-storage.ts';
import { applyLive } from './room-log.ts';
import type { Timers } from './timers.ts';

export type SendResult = { ok: true; clientId: string } | { ok: false; message: string };

export interface OutboxSenderDeps {
  store: ChatStore;
  link: Link;
  storage: OutboxStorage;
  timers: Timers;
  now: () => number;
  random: () => number;
  newClientId: () => string;
}

export class OutboxSender {
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly deps: OutboxSenderDeps) {}

  /** Restores what previous pages (this tab's or others') left unsent. */
  load(): void {
    this.deps.store.set({ outbox: this.deps.storage.load() });
  }

  /** Another tab wrote storage: see OutboxStorage.foreignWrite. */
  storageChanged(key: string | null): void {
    this.deps.storage.foreignWrite(key, this.outbox);
  }

  private get outbox(): readonly OutboxEntry[] {
    return this.deps.store.getSnapshot().outbox;
  }

  private setOutbox(next: readonly OutboxEntry[]): void {
    const prev = this.outbox;
    if (next === prev) return;
    this.deps.storage.save(next);
    const kept = new Set(next.map((e) => e.clientId));
    this.deps.storage.forget(new Set(prev.filter((e) => !kept.has(e.clientId)).map((e) => e.clientId)));
    this.deps.store.set({ outbox: next });
  }

  /** Queues a message (mentioning `mentions`, userIds; answering `replyTo`); it shows at once as "sending". */
  send(room: string, text: string, mentions: readonly string[] = [], replyTo?: number, attachments: readonly Attachment[] = []): SendResult {
    // The shared rules normalise the text exactly as the server will: the
    // local echo and the stored message are the same string. Beside files, no text is fine.
    if (text.trim() === '' && attachments.length === 0) return { ok: false, message: 'Type a message first.' };
    const valid = (attachments.length > 0 ? CaptionText : MessageText).safeParse(text);
    if (!valid.success) return { ok: false, message: valid.error.issues[0]?.message ?? 'This message cannot be sent.' };
    const entry = newEntry(this.deps.newClientId(), room, valid.data, this.deps.now(), mentions, replyTo, attachments);
    this.setOutbox([...this.outbox, entry]);
    void this.pump();
    return { ok: true, clientId: entry.clientId };
  }

  /** Sends a failed message again, under its original clientId. */
  retry(clientId: string): void {
    this.setOutbox(retryEntry(this.outbox, clientId));
    void this.pump();
  }

  /** Gives up on a failed message. */
  discard(clientId: string): void {
    this.setOutbox(removeEntry(this.outbox, clientId));
  }

  /** The server's copy of a queued message arrived (broadcast or replay): it is sent. */
  settle(messages: readonly Message[]): void {
    const userId = this.deps.link()?.session.userId ?? this.deps.store.getSnapshot().session?.userId ?? null;
    this.setOutbox(settleFromLog(this.outbox, messages, userId));
  }

  /** A new connection: waits were for the old one, so everything queued goes now. */
  connected(): void {
    this.setOutbox(resetWaits(this.outbox));
    void this.pump();
  }

  /** Sends queued messages one at a time, in the order typed. */
  async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      await this.drain();
    } finally {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        void this.pump();
      }
    }
  }

  private async drain(): Promise<void> {
    const { link, timers, now, store } = this.deps;
    for (;;) {
      const live = link();
      if (!live) return;
      const next = nextToSend(this.outbox, now());
      if (next === null) return;
      if (next === 'wait') {
        const head = this.outbox.find((e) => e.state === 'sending');
        timers.set('outbox', Math.max(0, (head?.notBefore ?? 0) - now()), () => void this.pump());
        return;
      }
      const extra = {
        ...(next.mentions ? { mentions: [...next.mentions] } : {}),
        ...(next.replyTo === undefined ? {} : { replyTo: next.replyTo }),
        ...(next.attachments ? { attachments: next.attachments.map((a) => a.id) } : {}),
      };
      const res = await live.transport.request('send', { room: next.room, text: next.text, clientId: next.clientId, ...extra });
      // Settled meanwhile by the broadcast copy, or discarded by the user.
      if (!this.outbox.some((e) => e.clientId === next.clientId)) continue;
      if (res.ok) {
        this.setOutbox(removeEntry(this.outbox, next.clientId));
        // Show the acked message now; the broadcast copy has the same seq and merges away.
        const msg = ackedMessage(next, res, live.session);
        store.updateRoom(next.room, (r) => (r.loaded ? applyLive(r, [msg]).room : r));
      } else if (link()?.transport !== live.transport) {
        return; // The connection dropped, not the message's fault: it goes again after reconnecting.
      } else {
        const backoff = retryDelay(next.attempts + 2, this.deps.random);
        this.setOutbox(recordFailure(this.outbox, next.clientId, res.error, now(), backoff));
      }
    }
  }
}
