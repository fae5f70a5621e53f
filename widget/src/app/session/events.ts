/**
 * What a Matrix event from someone else looks like to the visitor, and what the bot's structured
 * content means for the widget. Pure: no client, no DOM (timeline.ts feeds it real events).
 * Text is handed on as text; ui.ts renders it with text nodes only.
 *
 * Never shown (SECURITY.md G.32): a redacted event (whatever it was, from whoever), and a staff
 * command from anyone but the bot (see isStaffCommand): the bots take a `!note` out of the room
 * and answer commands elsewhere, and the visitor must not read it even before the redaction
 * arrives.
 */
import { DecryptionFailureCode } from "matrix-js-sdk/lib/crypto-api/index.js";
import {
  messageKind,
  parseFeedbackOffer,
  parseHandoverPartner,
  parsePartnerMember,
  parsePrompt,
  parseQueue,
  parseSupervisor,
  withoutOptionList,
  type FeedbackOffer,
  type QueueInfo,
} from "../content";
import { displayName } from "../render";
import type { MessageView, RoomKind, Sender } from "./types";

export const PROMPT_TYPE = "nl.keerpunt.prompt";
const MESSAGE_TYPE = "m.room.message";
const ENCRYPTED_TYPE = "m.room.encrypted";
const REDACTION_TYPE = "m.room.redaction";

/** The part of js-sdk's MatrixEvent that rendering reads. */
export interface EventLike {
  getId(): string | undefined;
  getTxnId(): string | undefined;
  getSender(): string | undefined;
  getRoomId(): string | undefined;
  getType(): string;
  getWireType(): string;
  getContent(): object;
  isState(): boolean;
  isBeingDecrypted(): boolean;
  shouldAttemptDecryption(): boolean;
  isDecryptionFailure(): boolean;
  /** Redacted: `unsigned.redacted_because` is set (by the server, or by js-sdk on a redaction). */
  isRedacted(): boolean;
  readonly decryptionFailureReason: DecryptionFailureCode | null;
  /** The event as it came (js-sdk's MatrixEvent.event): a redaction names its target here. */
  readonly event: { redacts?: string };
}

export type Rendered =
  /** `bot`: the bot's decrypted content, for botNews(); null for anyone else or before decryption. */
  | { kind: "message"; view: MessageView; bot: Record<string, unknown> | null }
  /** Decrypted, but not a message (a reaction, an edit, …): not shown. */
  | { kind: "hidden"; key: string; bot: Record<string, unknown> | null };

export function eventKey(event: Pick<EventLike, "getId" | "getTxnId">): string {
  return event.getId() ?? event.getTxnId() ?? "";
}

/** Timeline events worth a line in the chat (by their type on the wire, before decryption). */
export function isShownType(wireType: string): boolean {
  return wireType === ENCRYPTED_TYPE || wireType === MESSAGE_TYPE || wireType === PROMPT_TYPE;
}

/** Sent before its sender's device keys were here: decryption is retried, the visitor waits. */
export function waitsForSenderKeys(event: Pick<EventLike, "decryptionFailureReason">): boolean {
  return event.decryptionFailureReason === DecryptionFailureCode.UNKNOWN_SENDER_DEVICE;
}

/**
 * The name shown with a message: the bot's name, a member's own display name, or an intake
 * member's organisation; else null (the list then says "Counsellor").
 */
export function senderName(
  sender: string,
  rawDisplayName: string | null,
  known: { bot: string; botName: string; organisation: string | null },
): string | null {
  if (sender === known.bot) return known.botName;
  // No display name set: js-sdk falls back to the user ID; show "Counsellor" instead.
  const raw = rawDisplayName;
  const bare = raw === null || raw === sender || raw === sender.slice(1).split(":")[0];
  const own = bare ? null : displayName(raw, "") || null;
  return own ?? known.organisation ?? null;
}

/**
 * The ID of the event a redaction takes away: `redacts` at the top of the event (room versions
 * up to 10, and Synapse copies it there for v11) or in its content (v11); null for any other event.
 */
export function redactedId(event: Pick<EventLike, "getWireType" | "getContent" | "event">): string | null {
  if (event.getWireType() !== REDACTION_TYPE) return null;
  const top = event.event.redacts;
  const inContent = (event.getContent() as Record<string, unknown>).redacts;
  const id = typeof top === "string" ? top : typeof inContent === "string" ? inContent : "";
  return id || null;
}

/**
 * Leading whitespace as either side counts it: JavaScript's \s, plus what Python's str.lstrip()
 * also strips (U+001C–U+001F, U+0085), so nothing the bots read as a command slips through here.
 */
const COMMAND = /^[\s\x1c-\x1f\x85]*!/;

/**
 * A staff command, never shown to the visitor when anyone but the bot sends it (a counsellor,
 * or a partner in a handover room). Deliberately simple and a little wider than the bots' own
 * rule (bots/commands/table.py `is_command`: the body starts with "!" after leading whitespace,
 * and is more than that "!"): any body, or edited body, whose first character after leading
 * whitespace is "!" — a lone "!" included. Such a line is for the bots, never for the visitor.
 */
export function isStaffCommand(content: Record<string, unknown>): boolean {
  const edited = content["m.new_content"];
  const bodies = [content.body, typeof edited === "object" && edited !== null ? (edited as Record<string, unknown>).body : null];
  return bodies.some((body) => typeof body === "string" && COMMAND.test(body));
}

export function renderEvent(event: EventLike, who: { bot: string; name: string | null }): Rendered {
  const key = eventKey(event);
  const from: Sender = (event.getSender() ?? "") === who.bot ? "bot" : "staff";
  const base = { key, from, name: who.name, prompt: null, status: null, notice: false } as const;
  // Redacted, maybe before we could even decrypt it: nothing of it is shown or acted on.
  if (event.isRedacted()) return { kind: "hidden", key, bot: null };
  if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) {
    return { kind: "message", view: { ...base, body: null, state: "decrypting" }, bot: null };
  }
  if (event.isDecryptionFailure()) {
    const state = waitsForSenderKeys(event) ? "decrypting" : "undecryptable";
    return { kind: "message", view: { ...base, body: null, state }, bot: null };
  }
  const type = event.getType();
  const content = event.getContent() as Record<string, unknown>;
  // Buttons and queue news are the bot's alone: from anyone else they are just text.
  const bot = from === "bot" ? content : null;
  if (type !== MESSAGE_TYPE && type !== PROMPT_TYPE) return { kind: "hidden", key, bot };
  if (from !== "bot" && isStaffCommand(content)) return { kind: "hidden", key, bot: null };
  const prompt = bot ? parsePrompt(type === PROMPT_TYPE ? content : content[PROMPT_TYPE]) : null;
  const text = typeof content.body === "string" ? content.body : "";
  // With buttons, the plain-text list of the same answers would show each answer twice.
  const body = prompt ? withoutOptionList(text, prompt) : text;
  const view: MessageView = { ...base, body, state: "ok", prompt, notice: content.msgtype === "m.notice" };
  return { kind: "message", view, bot };
}

export type BotNews =
  | { kind: "queue"; info: QueueInfo }
  | { kind: "closed" }
  | { kind: "reopen"; prompt: string }
  | { kind: "partner"; name: string }
  | { kind: "organisation"; user: string; organisation: string }
  /** A counsellor joined: the ticket and questions for the visitor's verdict after the chat. */
  | { kind: "feedback"; offer: FeedbackOffer }
  /** A colleague reads along (or stopped): their joining and leaving is the bot's to announce. */
  | { kind: "supervisor"; user: string; watching: boolean };

/** What the bot's structured content means for the widget (renderEvent shows the text itself). */
export function botNews(room: RoomKind, content: Record<string, unknown>): BotNews[] {
  const kind = messageKind(content);
  const news: BotNews[] = [];
  if (room === "case") {
    const queue = parseQueue(content["nl.keerpunt.queue"]);
    if (queue) news.push({ kind: "queue", info: queue });
    if (kind === "queue.visitor.closed") news.push({ kind: "closed" });
    if (kind === "handover.later") news.push({ kind: "reopen", prompt: "handover" });
    const offer = parseFeedbackOffer(content["nl.keerpunt.feedback"]);
    if (offer) news.push({ kind: "feedback", offer });
    const supervisor = parseSupervisor(content["nl.keerpunt.supervisor"]);
    if (supervisor) news.push({ kind: "supervisor", ...supervisor });
    return news;
  }
  if (kind === "handover.intro") {
    const partner = displayName(parseHandoverPartner(content["nl.keerpunt.handover"]), "");
    if (partner) news.push({ kind: "partner", name: partner });
  } else if (kind === "handover.partner_joined") {
    const member = parsePartnerMember(content["nl.keerpunt.partner"]);
    const organisation = member ? displayName(member.organisation, "") : "";
    if (member && organisation) news.push({ kind: "organisation", user: member.user, organisation });
  }
  return news;
}
