/**
 * The return-code flow in the app (docs/return-code.md): coming back with a code, and making one
 * for the open case. ChatApp holds one only when return codes are on, and lends it the few parts
 * it needs (ReturnHost); the chat's own state (session, credentials) stays with ChatApp.
 *
 * Every 4S key derived here, and the bots' part of it, is wiped (filled with zeros) as soon as
 * it has been used, whatever happened; the code and the second word stay nowhere but in the
 * later dialog while it shows.
 */
import { logout, passwordLogin, registerCode, returnWithCode, type LoginResult, type SessionInfo } from "../api";
import type { Conversations } from "../conversations";
import { translate } from "../i18n";
import type { AppView } from "../screens";
import type { ReturnEntry } from "../screens/code";
import type { LiveSession, Returning, SessionModule } from "../session/types";
import type { Screens } from "../ui";
import { derive, type Derived } from "./derive";
import { openingMs } from "./later";
import { loadWords, makeCode, showCode } from "./words";

/**
 * How long ending a chat with a return code waits for the key backup to hold every key (the
 * backup upload starts within a second; see session/recovery.ts). Past it the chat ends anyway:
 * the counsellor keeps the whole conversation, the visitor's history may miss the last keys.
 */
export const SETTLE_MS = 15000;

/**
 * The longest wait for Synapse's login limit the widget sits out by itself before it tries
 * again; past it the visitor is told the code still works and to try again in a few minutes
 * (the bots keep the code until the new device exists: docs/return-code.md).
 */
export const LOGIN_WAIT_MS = 15000;

/** What the flow needs of the app. */
export interface ReturnHost {
  readonly api: string;
  readonly screens: Screens;
  readonly view: AppView;
  readonly conversations: Conversations;
  /** The SDK and the crypto, loading or loaded (ChatApp.warm). */
  warm(): Promise<SessionModule>;
  /** The start step both paths share (ChatApp.openSession): the session, or null (nothing to do). */
  open(info: SessionInfo, loading: Promise<SessionModule>, signal: AbortSignal, returning: Returning): Promise<LiveSession | null>;
  /** The running session and its credentials, if a chat is open. */
  current(): { session: LiveSession; credentials: SessionInfo } | null;
}

export class ReturnFlow {
  /** The open case has a registered return code: ending it makes it dormant. */
  hasCode = false;
  /** The next start is one to leave a message while the chat is closed (docs/write-later.md). */
  wantLater = false;
  /** The visitor of this live chat chose to leave a message after a long wait. */
  private longWait = false;
  /** The last return was refused, or its login did not go through: "Try again" goes back to
   * the code, once. */
  private refused = false;

  constructor(private readonly app: ReturnHost) {}

  /**
   * A visitor comes back with a return code (docs/return-code.md "Returning"): derive, ask the
   * bots, log in to Synapse with the login secret, take up the identity and (unless "without
   * history") restore the earlier conversation; then rotate the code. Every refusal shows one
   * and the same text.
   */
  async comeBack(entry: ReturnEntry, signal: AbortSignal): Promise<void> {
    const { screens, view, conversations } = this.app;
    this.refused = false;
    screens.show("connecting");
    view.start.clearCode(false); // the word is read: it stays nowhere on the page
    const loading = this.app.warm();
    loading.catch(() => undefined);
    const derived = await derive(entry.words, entry.word);
    const back = await this.login(derived, signal);
    if (!back) return;
    const { info, part } = back;
    const ssss = await derived.storageKey(part);
    let session: LiveSession | null = null;
    try {
      session = await this.app.open(info, loading, signal, { ssss, history: entry.history });
    } finally {
      ssss.fill(0);
      part?.fill(0);
    }
    if (!session) return;
    conversations.system(info.room_id, entry.history ? "return_back" : "return_back_fresh");
    screens.show("chat", null);
    performance.mark("kp-history-shown");
    view.chat.input.focus();
    // Each return rotates the code: the old one is used up now that this device exists.
    void this.makeCode(entry.word, true);
  }

  /**
   * Ask the bots for the case and log in to it: the credentials and the bots' part of the 4S key
   * (null for a code made before they took part), or null (an error is shown).
   */
  private async login(derived: Derived, signal: AbortSignal): Promise<{ info: SessionInfo; part: Uint8Array | null } | null> {
    const { api, screens, view } = this.app;
    const answer = await returnWithCode(api, { lookup: derived.lookup, verifier: derived.verifier });
    if (signal.aborted) return null;
    if (answer.kind !== "back") {
      this.refused = answer.kind === "refused";
      view.error.show(answer.kind === "busy" ? "error_busy" : answer.kind === "refused" ? "error_code" : "error_start");
      return null;
    }
    performance.mark("kp-return-api");
    const device = translate(screens.lang, "device_name");
    const attempt = (): Promise<LoginResult> => passwordLogin(answer.homeserver, answer.user_id, derived.login, device);
    let login = await attempt();
    if (login.kind === "busy" && login.retryAfterMs !== null && login.retryAfterMs <= LOGIN_WAIT_MS && !signal.aborted) {
      const wait = login.retryAfterMs;
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (!signal.aborted) login = await attempt();
    } else if (login.kind === "failed" && !signal.aborted) {
      login = await attempt();
    }
    if (signal.aborted) {
      if (login.kind === "in") logout(answer.homeserver, login.access_token).catch(() => undefined);
      answer.key?.fill(0);
      return null;
    }
    if (login.kind !== "in") {
      // The bots keep the code until the new device exists: the same code and word work again.
      answer.key?.fill(0);
      this.refused = true;
      view.error.show("error_code_later");
      return null;
    }
    view.start.clearCode(true);
    const { homeserver, user_id, room_id, bot } = answer;
    const info = { homeserver, user_id, room_id, bot, case: answer.case, access_token: login.access_token, device_id: login.device_id };
    return { info, part: answer.key };
  }

  /**
   * The visitor ends the chat: with a code, the device goes away, so first the key backup must
   * hold every key (docs/return-code.md). True when the case has a code (it becomes dormant).
   */
  async settle(session: LiveSession | null): Promise<boolean> {
    if (!this.hasCode) return false;
    if (this.endReason() === "later") {
      // The ended screen says when an answer can be expected: the next opening, or now (a long wait).
      const closed = this.app.current()?.credentials.later === true;
      this.app.view.ended.laterFrom(closed ? openingMs(this.app.view.closed.opensAt()) : Date.now());
    }
    if (session) {
      this.app.view.chat.showBanner("end_saving");
      if (!(await session.settle(SETTLE_MS))) console.warn("keerpunt: the key backup is not complete");
    }
    return true;
  }

  /**
   * "Schrijf nu, we antwoorden later" (docs/write-later.md): in a live chat (a long wait) the code
   * dialog, and everything written stays; otherwise `start` a session to leave a message while closed.
   */
  writeLater(start: () => void): void {
    if (this.app.current()) {
      this.longWait = true;
      this.app.view.chat.later?.open();
      return;
    }
    this.wantLater = true;
    start();
  }

  /** How the open chat ends: `later` (a message left to be answered) once it has a code in that path. */
  endReason(): "later" | "ended" {
    const closed = this.app.current()?.credentials.later === true;
    return this.hasCode && (closed || this.longWait) ? "later" : "ended";
  }

  /** The chat is gone: no code, no message for later. */
  reset(): void {
    this.hasCode = false;
    this.longWait = false;
  }

  /** "Try again" after an error: true when it went back to the refused code (the start screen). */
  again(): boolean {
    if (!this.refused) return false;
    this.refused = false;
    this.app.screens.show("start");
    this.app.view.start.codeAgain();
    return true;
  }

  /**
   * Make a return code for the open case with the visitor's second word (or, `rotated`, a new
   * one after a return): words from the list, the derivation, the code registered with the bots
   * (who answer their part of the 4S key), the history kept under the new 4S key; only then is it
   * shown, to the visitor alone.
   */
  async makeCode(word: string, rotated = false): Promise<void> {
    const { api, view, conversations } = this.app;
    const open = this.app.current();
    if (!open) return;
    const { session, credentials } = open;
    const still = (): boolean => this.app.current()?.session === session;
    let words: string[];
    try {
      words = makeCode(await loadWords());
      const derived = await derive(words, word);
      const { lookup, verifier, login } = derived;
      // Registered first: the bots answer their part of the 4S key only for a code they hold.
      const part = await registerCode(api, credentials.access_token, { lookup, verifier, login });
      if (!part) throw new Error("the code was not registered");
      const ssss = await derived.storageKey(part);
      part.fill(0);
      try {
        if (still()) await session.protect(ssss);
      } finally {
        ssss.fill(0);
      }
    } catch (error) {
      console.warn("keerpunt: no return code:", error instanceof Error ? error.message : error);
      if (!still()) return;
      // After a return the old code is used up already: say so, or the visitor would count on
      // a code that no longer opens anything. The "later" button stays to make a new one.
      if (rotated) conversations.system(credentials.room_id, "return_code_lost");
      else view.chat.later?.failed();
      return;
    }
    if (!still()) return; // the chat ended meanwhile: show nothing
    this.hasCode = true;
    view.chat.codeMade(true);
    conversations.system(credentials.room_id, "later_made_line");
    view.chat.later?.showCode(showCode(words), rotated);
  }
}
