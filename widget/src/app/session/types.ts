/**
 * What the encrypted session tells the app, and how it shows a message. Types only: the app's
 * small entry imports these without pulling in the Matrix SDK.
 */
import type { SessionInfo } from "../api";
import type { FeedbackOffer, Prompt, QueueInfo } from "../content";

export type Sender = "me" | "bot" | "staff";
export type RoomKind = "case" | "handover";
export type SendState = "sending" | "sent" | "read" | "failed";

export interface MessageView {
  key: string;
  from: Sender;
  name: string | null;
  body: string | null;
  state: "ok" | "decrypting" | "undecryptable";
  prompt: Prompt | null;
  status: SendState | null;
  notice: boolean;
}

/** How the bot and a counsellor without a display name are called, in the visitor's language. */
export interface Names {
  bot: string;
  staff: string;
}

/** Everything about a conversation names its room: the case room or a handover room. */
export interface SessionCallbacks {
  message(room: string, view: MessageView): void;
  remove(room: string, key: string): void;
  /** A counsellor joined or left the case room (handover rooms: the bot says who joined). */
  memberJoined(room: string): void;
  memberLeft(room: string): void;
  typing(room: string, names: string[]): void;
  connection(ok: boolean): void;
  queue(info: QueueInfo): void;
  untrusted(room: string): void;
  /** No more messages go out in this room: the case was closed, or we left the handover room. */
  closed(room: string): void;
  ended(): void;
  /** We joined a handover room on the bot's invite; called once, before any of its messages. */
  handover(room: string): void;
  /** The partner's name, from the bot's `handover.intro` in that handover room. */
  partner(room: string, name: string): void;
  /** The visitor answered "later": the prompt `prompt` in `room` can be answered again. */
  reopenPrompt(room: string, prompt: string): void;
  /** The ticket and questions for the visitor's verdict, asked once the chat has ended. */
  feedback(offer: FeedbackOffer): void;
}

/** What the app needs of a running ChatSession (session.ts). */
export interface LiveSession {
  send(room: string, body: string, reply?: { prompt: string; option: string }): Promise<void>;
  retry(key: string): Promise<void>;
  typing(room: string, active: boolean): void;
  /** Keep the history for a return code: 4S under `key`, a key backup, a dehydrated device. */
  protect(key: Uint8Array): Promise<void>;
  /** Wait (at most `limitMs`) until the key backup holds every key; false if it did not. */
  settle(limitMs: number): Promise<boolean>;
  stop(): void;
}

/** A visitor who came back with a return code (docs/return-code.md "Returning"). */
export interface Returning {
  /** The 4S key derived from the code and the second word. */
  ssss: Uint8Array;
  /** Restore the earlier conversation; false: "return without history". */
  history: boolean;
}

export interface SessionModule {
  warmUp(): void;
  ChatSession: {
    /**
     * Set up crypto, sync, join and speak first (or, `returning`, take up the visitor's identity
     * and restore the earlier conversation: nothing is sent). `signal` aborted (the app was torn down): stop
     * the client at once, send nothing more, and reject.
     */
    open(
      info: SessionInfo,
      language: string,
      callbacks: SessionCallbacks,
      names: Names,
      signal?: AbortSignal,
      returning?: Returning,
    ): Promise<LiveSession>;
  };
}
