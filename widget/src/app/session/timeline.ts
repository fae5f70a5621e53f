/**
 * Events of the rooms we show, on their way to the screen: rendered (events.ts) when they arrive
 * and again when they are decrypted, the bot's structured content acted on, read receipts sent.
 *
 * Redactions (SECURITY.md G.32): a redacted event leaves the screen, also when it is shown
 * already (a counsellor deleted a message, the bot took a `!note` out of the room), and one that
 * arrives redacted is never shown (events.ts). Redactions come as timeline events (`arrived`),
 * and js-sdk also reports the ones it applies itself (RoomEvent.Redaction, `redacted`).
 *
 * Strict mode (FIELD-NOTES): a message that arrives before its sender's device keys fails as
 * "unknown sender device" and js-sdk never retries it. Such events are kept here and retried
 * (`retryDecryptions`) when device lists or trust change, which is when those keys arrive.
 */
import type { MatrixEvent } from "matrix-js-sdk";
import { botNews, eventKey, isShownType, redactedId, renderEvent, senderName, waitsForSenderKeys } from "./events";
import type { Rooms } from "./rooms";
import type { Names, SessionCallbacks } from "./types";

type Backend = Parameters<MatrixEvent["attemptDecryption"]>[0];
/** What the timeline needs of an event: rendering, plus a way to decrypt it again. */
export type TimelineEvent = Parameters<typeof renderEvent>[0] & Pick<MatrixEvent, "attemptDecryption">;

export interface TimelineDeps {
  me: string;
  bot: string;
  names: Names;
  rooms: Rooms;
  callbacks: Pick<SessionCallbacks, "message" | "remove" | "queue" | "closed" | "reopenPrompt" | "partner" | "feedback">;
  /** The sender's own display name in that room (js-sdk's rawDisplayName), or null. */
  displayNameOf(roomId: string, user: string): string | null;
  /** Send a read receipt for the event (only while the page is visible). */
  markRead(event: TimelineEvent): void;
  /** One of our own messages was redacted: its key on screen, forgotten by the outbox; else null. */
  forgetOwn(eventId: string): string | null;
  crypto: Backend;
  /**
   * A returning visitor's first sync (the earlier conversation) is under way: "show" it as
   * history (our own earlier messages too, the bot's questions without buttons, no queue news),
   * or "hide" it ("return without history"); null once the chat is live.
   */
  replaying?(): "show" | "hide" | null;
}

export class Timeline {
  /** Keys of events shown on screen: a later decryption updates them in place. */
  private readonly shown = new Set<string>();
  private readonly retryDecrypt = new Set<TimelineEvent>();
  /** Keys of the earlier conversation's events (shown as history: see TimelineDeps.replaying). */
  private readonly history = new Set<string>();

  constructor(private readonly deps: TimelineDeps) {}

  /** A new event at the end of a room's timeline. */
  arrived(roomId: string, event: TimelineEvent): void {
    if (!this.deps.rooms.has(roomId)) return;
    const replay = this.deps.replaying?.() ?? null;
    if (replay === "hide") return; // "return without history": nothing from before
    const target = redactedId(event);
    if (target !== null) return this.redacted(roomId, target);
    // Our own live messages are the outbox's; our earlier ones come back as history.
    if ((event.getSender() === this.deps.me && !replay) || event.isState()) return;
    if (!isShownType(event.getWireType())) return;
    this.shown.add(eventKey(event));
    if (replay) this.history.add(eventKey(event));
    this.render(event);
    if (!replay) this.deps.markRead(event);
  }

  /** An event was decrypted (or failed to be). */
  decrypted(event: TimelineEvent): void {
    if (!this.deps.rooms.has(event.getRoomId() ?? "")) return;
    if (waitsForSenderKeys(event) && !event.isRedacted()) this.retryDecrypt.add(event);
    else this.retryDecrypt.delete(event);
    if (this.shown.has(eventKey(event))) this.render(event);
  }

  /** `eventId` in `roomId` was redacted: off the screen, never shown again, not decrypted again. */
  redacted(roomId: string, eventId: string): void {
    if (!this.deps.rooms.has(roomId)) return;
    this.shown.delete(eventId);
    for (const event of this.retryDecrypt) if (event.getId() === eventId) this.retryDecrypt.delete(event);
    this.deps.callbacks.remove(roomId, eventId);
    const own = this.deps.forgetOwn(eventId);
    if (own !== null) this.deps.callbacks.remove(roomId, own);
  }

  get waitingForKeys(): number {
    return this.retryDecrypt.size;
  }

  retryDecryptions(): void {
    for (const event of [...this.retryDecrypt]) {
      void event.attemptDecryption(this.deps.crypto, { isRetry: true });
    }
  }

  clear(): void {
    this.shown.clear();
    this.history.clear();
    this.retryDecrypt.clear();
  }

  private render(event: TimelineEvent): void {
    const { rooms, callbacks, bot, names } = this.deps;
    const roomId = event.getRoomId() ?? "";
    const kind = rooms.kind(roomId);
    if (!kind) return;
    rooms.announce(roomId); // the "new conversation" line comes before the room's first message
    const sender = event.getSender() ?? "";
    const name = senderName(sender, this.deps.displayNameOf(roomId, sender), {
      bot,
      botName: names.bot,
      organisation: rooms.organisation(roomId, sender),
    });
    const rendered = renderEvent(event, { bot, name });
    if (this.history.has(eventKey(event))) {
      // Shown neutrally, as it was: no shield, no buttons to answer again, no queue news.
      rendered.bot = null;
      if (rendered.kind === "message") {
        const mine = sender === this.deps.me;
        rendered.view = { ...rendered.view, prompt: null, ...(mine ? { from: "me" as const, name: null } : {}) };
      }
    }
    for (const news of rendered.bot ? botNews(kind, rendered.bot) : []) {
      if (news.kind === "queue") callbacks.queue(news.info);
      else if (news.kind === "closed") callbacks.closed(roomId);
      else if (news.kind === "reopen") callbacks.reopenPrompt(roomId, news.prompt);
      else if (news.kind === "partner") callbacks.partner(roomId, news.name);
      else if (news.kind === "feedback") callbacks.feedback(news.offer);
      else if (news.kind === "supervisor") rooms.learnSupervisor(roomId, news.user);
      else rooms.learnOrganisation(roomId, news.user, news.organisation);
    }
    if (rendered.kind === "hidden") {
      this.shown.delete(rendered.key);
      callbacks.remove(roomId, rendered.key);
    } else {
      callbacks.message(roomId, rendered.view);
    }
  }
}
