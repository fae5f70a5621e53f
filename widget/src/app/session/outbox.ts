/**
 * The visitor's outgoing messages (DESIGN.md E2EE rule 6). Each gets a transaction ID once, when
 * written, and keeps it for every retry, so the server keeps exactly one event however often it
 * goes out. Each room has its own queue: its messages go one after another, in the order the
 * visitor wrote them, while a room that is not ready yet (a handover room waits up to 10 s for
 * the join) holds up nothing in another room. A failed send shows as failed with a retry button,
 * and is sent again when the connection comes back. Nothing is stored: `clear()` forgets it all.
 */
import type { MessageView, SendState } from "./types";

export const REPLY_KEY = "nl.keerpunt.reply";

export interface OutboxDeps {
  /** Resolves once `room` can be sent to (joined, a signed recipient); rejects when it cannot. */
  ready(room: string): Promise<void>;
  /** Sends one event with this transaction ID; resolves to its event ID. */
  send(room: string, type: string, content: Record<string, unknown>, txnId: string): Promise<string>;
  /** Shows, or updates, one of our messages. */
  show(room: string, view: MessageView): void;
  /** Someone other than us and the bot has read `eventId` in `room`. */
  isRead(room: string, eventId: string): boolean;
  nextTxn(): string;
}

interface Outgoing {
  key: string;
  room: string;
  txnId: string;
  content: Record<string, unknown>;
  eventId: string | null;
  status: SendState;
  body: string;
}

/** Transaction IDs unique to this page load: a random prefix and a counter. */
export function txnIds(prefix = `kp${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`): () => string {
  let counter = 0;
  return () => {
    counter += 1;
    return `${prefix}.${counter}`;
  };
}

export class Outbox {
  private readonly outgoing = new Map<string, Outgoing>();
  /** Per room, the last send queued: the next one in that room goes after it. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly deps: OutboxDeps) {}

  /** Send a text message (or a structured reply). Resolves once it is on the server. */
  async send(room: string, body: string, reply?: { prompt: string; option: string }): Promise<void> {
    const content: Record<string, unknown> = { msgtype: "m.text", body };
    if (reply) content[REPLY_KEY] = { prompt: reply.prompt, option: reply.option };
    const txnId = this.deps.nextTxn();
    const out: Outgoing = { key: txnId, room, txnId, content, eventId: null, status: "sending", body };
    this.outgoing.set(txnId, out);
    this.show(out);
    await this.enqueue(out);
  }

  /** Send a failed message again with the same transaction ID: the server keeps exactly one event. */
  async retry(key: string): Promise<void> {
    const out = this.outgoing.get(key);
    if (!out || out.status !== "failed") return;
    out.status = "sending";
    this.show(out);
    await this.enqueue(out);
  }

  /** The connection is back: every failed message goes again, oldest first in each room. */
  async resendFailed(): Promise<void> {
    // Queued all at once, in the order written; each room's queue keeps that order.
    const failed = [...this.outgoing.values()].filter((out) => out.status === "failed");
    await Promise.all(failed.map((out) => this.retry(out.key).catch(() => undefined)));
  }

  /** Messages in `room` that someone other than the bot has read show as read. */
  updateReadState(room: string): void {
    for (const out of this.outgoing.values()) {
      if (out.room !== room || out.status !== "sent" || !out.eventId) continue;
      if (this.deps.isRead(room, out.eventId)) {
        out.status = "read";
        this.show(out);
      }
    }
  }

  /** Our message `eventId` was redacted: forget it; its key on screen, or null when not ours. */
  forget(eventId: string): string | null {
    for (const out of this.outgoing.values()) {
      if (out.eventId !== eventId) continue;
      this.outgoing.delete(out.key);
      return out.key;
    }
    return null;
  }

  clear(): void {
    this.outgoing.clear();
    this.queues.clear();
  }

  private enqueue(out: Outgoing): Promise<void> {
    const next = (this.queues.get(out.room) ?? Promise.resolve()).then(() => this.deliver(out));
    const tail = next.catch(() => undefined);
    this.queues.set(out.room, tail);
    // An empty queue is forgotten (unless something was queued behind it meanwhile).
    void tail.then(() => {
      if (this.queues.get(out.room) === tail) this.queues.delete(out.room);
    });
    return next;
  }

  private async deliver(out: Outgoing): Promise<void> {
    try {
      await this.deps.ready(out.room);
      out.eventId = await this.deps.send(out.room, "m.room.message", out.content, out.txnId);
      out.status = "sent";
    } catch (error) {
      out.status = "failed";
      this.show(out);
      throw error;
    }
    this.show(out);
    this.updateReadState(out.room);
  }

  private show(out: Outgoing): void {
    this.deps.show(out.room, {
      key: out.key,
      from: "me",
      name: null,
      body: out.body,
      state: "ok",
      prompt: null,
      status: out.status,
      notice: false,
    });
  }
}
