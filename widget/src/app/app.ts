/**
 * The chat app: its state (the running session, its credentials, whether a chat is going on)
 * and what happens to it: start, send, end, quick exit. One instance per page (main.ts makes
 * it); tests make their own with a fake session module and a stubbed fetch.
 *
 * Every way a conversation ends goes through `teardown(reason)`; TEARDOWN says how the ways
 * differ. The Matrix SDK and Rust crypto load only when the visitor presses "Start" (session.ts).
 */
import { PROTOCOL } from "../shared/protocol";
import {
  endSession,
  logout,
  passwordLogin,
  registerCode,
  returnWithCode,
  startSession,
  type SessionInfo,
} from "./api";
import type { WidgetConfig } from "./config";
import { Composer } from "./composer";
import { Conversations } from "./conversations";
import type { HostLink } from "./host";
import { translate, type Language } from "./i18n";
import { startRequest, type Outreach } from "./outreach";
import { isExiting, quickExit } from "./quickexit";
import { derive } from "./returncode/derive";
import { loadWords, makeCode, showCode } from "./returncode/words";
import type { ReturnEntry } from "./screens/code";
import { buildScreens, type AppView } from "./screens";
import type { LiveSession, SessionCallbacks, SessionModule } from "./session/types";
import { sessionView } from "./sessionview";
import { TEARDOWN, type TeardownReason } from "./teardown";
import { Screens } from "./ui";

/**
 * How long ending a chat with a return code waits for the key backup to hold every key (the
 * backup upload starts within a second; see session/recovery.ts). Past it the chat ends anyway:
 * the counsellor keeps the whole conversation, the visitor's history may miss the last keys.
 */
export const SETTLE_MS = 15000;

export interface AppDeps {
  config: WidgetConfig;
  root: HTMLElement;
  /** Embedded in a host page (not inline): the header gets a "minimise" button. */
  minimisable: boolean;
  outreach: Outreach;
  host: HostLink;
  /** Go to `url`, replacing this history entry. */
  replace(url: string): void;
  reload(): void;
  loadSession?: () => Promise<SessionModule>;
  /** Fetch and compile the crypto wasm (wasm.ts); tests that fake the session leave it out. */
  loadCrypto?: () => Promise<void>;
}

export class ChatApp {
  readonly screens: Screens;
  readonly conversations: Conversations;
  readonly view: AppView;
  private session: LiveSession | null = null;
  private credentials: SessionInfo | null = null;
  private active = false;
  /** The open case has a registered return code: ending it makes it dormant. */
  private hasCode = false;
  /** The last start was a return with a code that failed: "Try again" goes back to the code. */
  private returnFailed = false;
  /** end() is under way (it chose the ended screen's text). */
  private ending = false;
  /** The start under way, if any; every teardown aborts it. */
  private starting: AbortController | null = null;
  /** The SDK loading (warm()), kept so a start finds it under way or done. */
  private loading: Promise<SessionModule> | null = null;
  private readonly composer: Composer;
  private readonly callbacks: SessionCallbacks;

  constructor(private readonly deps: AppDeps) {
    const { config, root } = deps;
    const screens = (this.screens = new Screens(root, config.language, deps.minimisable));
    const conversations = (this.conversations = new Conversations(screens, {
      option: (...answer) => this.composer.option(...answer),
      retry: (key) => void this.session?.retry(key).catch(() => undefined),
      switched: () => this.view.chat.follow(conversations.active),
    }));
    this.view = buildScreens(screens, conversations, config, {
      start: () => void this.start(),
      warm: () => void this.warm().catch(() => undefined),
      retry: () => this.retry(),
      newChat: () => deps.reload(),
      send: (body) => this.composer.send(body),
      typed: () => this.composer.typed(),
      end: () => void this.end(),
      quickExit: () => this.exit(),
      makeCode: (word) => void this.makeCode(word),
    });
    const chat = this.view.chat;
    this.composer = new Composer(() => this.session, conversations, chat);
    const caseRoom = (): string | null => this.credentials?.room_id ?? null;
    this.callbacks = sessionView({ conversations, chat, caseRoom, ended: () => {
        // Closed from the other side: nothing to come back to. (Ending with a code also signs
        // this device out, which can arrive here while end() still waits for its answer.)
        if (!this.ending) this.view.ended.withCode(false);
        this.teardown("ended");
      },
    });
    root.replaceChildren(screens.header, ...screens.screens.values());
    root.ownerDocument.body.append(screens.cover);
    screens.apply(config.language);
    this.view.start.refresh();
    screens.show("start", false);
    screens.langButton.addEventListener("click", () => {
      const next: Language = screens.lang === "nl" ? "en" : "nl";
      screens.apply(next);
      this.view.start.refresh();
    });
    screens.minimiseButton?.addEventListener("click", () => deps.host.post({ protocol: PROTOCOL, action: "minimise" }));
  }

  /** For tests and the page's handlers: what the app holds right now. */
  get state(): { session: LiveSession | null; credentials: SessionInfo | null; active: boolean } {
    return { session: this.session, credentials: this.credentials, active: this.active };
  }

  /**
   * Fetch the SDK and the crypto wasm, each in its own request at once, and compile the wasm;
   * only after the visitor asked for the chat (the launcher's frame with `warm=1`, a pointer
   * going down on "Start", or the start itself). Once; a failed load is tried again next time.
   */
  warm(): Promise<SessionModule> {
    if (this.loading) return this.loading;
    const deps = this.deps;
    const crypto = deps.loadCrypto ?? (deps.loadSession ? null : () => import("./wasm").then((m) => m.warmUp()));
    crypto?.().catch(() => undefined);
    const loading = (deps.loadSession ?? (() => import("./session")))().then((m) => {
      m.warmUp();
      return m;
    });
    loading.catch(() => {
      if (this.loading === loading) this.loading = null;
    });
    this.loading = loading;
    return loading;
  }

  /**
   * Start a chat: ask the API for an account and room, load the SDK meanwhile, open the
   * encrypted session. Whatever tears the app down meanwhile (quick exit, the page going away,
   * "End chat" while the session opens) aborts this start: after every wait it stops, shows
   * nothing, stops what it made and ends an account that only arrived afterwards.
   */
  async start(): Promise<void> {
    if (this.starting) return; // one start at a time: never two accounts
    // Anything left of an earlier attempt is ended before a new account is made.
    if (this.credentials) this.teardown("not-started");
    const attempt = new AbortController();
    this.starting = attempt;
    try {
      await this.run(attempt.signal);
    } finally {
      if (this.starting === attempt) this.starting = null;
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    performance.mark("kp-start"); // for bench/widget.py: where the time to the greeting goes
    const { screens, conversations, view, deps } = this;
    const back = deps.config.returnCode ? view.start.returnCode() : null;
    if (back) return this.comeBack(back, signal);
    screens.show("connecting");
    // The SDK and the crypto load (if they did not already) while the API makes the account and room.
    const loading = this.warm();
    loading.catch(() => undefined);
    const result = await startSession(deps.config.api, startRequest(screens.lang, deps.outreach, view.start.code()));
    performance.mark("kp-api");
    if (signal.aborted) {
      // Torn down while the API made the account: nobody else knows its token, so end it here.
      const late = result.kind === "started" || result.kind === "closed" ? result.session : null;
      if (late) endSession(deps.config.api, late.access_token, "quick_exit", true).catch(() => undefined);
      return;
    }
    if (result.kind === "busy") return view.error.show("error_busy");
    if (result.kind === "failed") return view.error.show("error_start");
    if (result.kind === "closed") {
      if (result.session) {
        this.credentials = result.session;
        this.teardown("not-started"); // no chat now: do not leave an account behind
      }
      return view.closed.show(result.opensAt);
    }
    this.credentials = result.session;
    this.active = true;
    if (deps.config.homeserver && result.session.homeserver !== deps.config.homeserver) {
      // The page's CSP only allows the configured homeserver; anything else cannot work.
      this.teardown("not-started");
      return view.error.show("error_start");
    }
    let module: SessionModule;
    try {
      module = await loading;
    } catch {
      if (signal.aborted) return; // the teardown ended the account
      this.teardown("not-started");
      return view.error.show("error_browser");
    }
    if (signal.aborted) return;
    conversations.clear();
    conversations.open(result.session.room_id, "case");
    view.chat.follow(conversations.active);
    screens.show("chat", null);
    let session: LiveSession;
    try {
      const names = { bot: translate(screens.lang, "bot"), staff: translate(screens.lang, "counsellor") };
      session = await module.ChatSession.open(result.session, screens.lang, this.callbacks, names, signal);
    } catch (error) {
      if (signal.aborted) return; // open() stopped its client; the teardown did the rest
      // Also when nobody in the room could read us (UntrustedError): there is no chat to keep.
      console.warn("keerpunt: the chat could not start:", error instanceof Error ? error.message : error);
      this.teardown("not-started");
      return view.error.show("error_start");
    }
    if (signal.aborted) {
      session.stop(); // it opened after all: it must not keep syncing
      return;
    }
    this.session = session;
    deps.root.classList.add("kp-ready");
    // On a touch screen focusing the composer opens the keyboard over the first question's
    // buttons: there the chat's heading gets focus (screen readers start at the chat).
    const touch = window.matchMedia?.("(pointer: coarse)").matches ?? false;
    if (touch) view.chat.section.querySelector<HTMLElement>("h1")?.focus();
    else view.chat.input.focus();
  }

  /** "Try again" on the error screen: after a refused return, back to the code; else start again. */
  private retry(): void {
    if (!this.returnFailed) return void this.start();
    this.screens.show("start");
    this.view.start.codeAgain();
  }

  /**
   * A visitor comes back with a return code (docs/return-code.md "Returning"): derive, ask the
   * bots, log in to Synapse with the login secret, take up the identity and (unless "without
   * history") restore the earlier conversation; then rotate the code. Every refusal shows one
   * and the same text.
   */
  private async comeBack(entry: ReturnEntry, signal: AbortSignal): Promise<void> {
    const { screens, conversations, view, deps } = this;
    this.returnFailed = false;
    screens.show("connecting");
    view.start.clearCode(false); // the word is read: it stays nowhere on the page
    const loading = this.warm();
    loading.catch(() => undefined);
    const derived = await derive(entry.words, entry.word);
    const answer = await returnWithCode(deps.config.api, { lookup: derived.lookup, verifier: derived.verifier });
    if (signal.aborted) return;
    if (answer.kind !== "back") {
      this.returnFailed = answer.kind === "refused";
      return view.error.show(answer.kind === "busy" ? "error_busy" : answer.kind === "refused" ? "error_code" : "error_start");
    }
    view.start.clearCode(true);
    performance.mark("kp-return-api");
    const device = translate(screens.lang, "device_name");
    let login = await passwordLogin(answer.homeserver, answer.user_id, derived.login, device);
    if (!login && !signal.aborted) login = await passwordLogin(answer.homeserver, answer.user_id, derived.login, device);
    if (signal.aborted) {
      if (login) logout(answer.homeserver, login.access_token).catch(() => undefined);
      return;
    }
    if (!login) return view.error.show("error_start");
    const info: SessionInfo = {
      homeserver: answer.homeserver,
      user_id: answer.user_id,
      access_token: login.access_token,
      device_id: login.device_id,
      room_id: answer.room_id,
      bot: answer.bot,
      case: answer.case,
    };
    this.credentials = info;
    this.active = true;
    if (deps.config.homeserver && info.homeserver !== deps.config.homeserver) {
      this.teardown("not-started");
      return view.error.show("error_start");
    }
    let module: SessionModule;
    try {
      module = await loading;
    } catch {
      if (signal.aborted) return;
      this.teardown("not-started");
      return view.error.show("error_browser");
    }
    if (signal.aborted) return;
    conversations.clear();
    conversations.open(info.room_id, "case");
    view.chat.follow(conversations.active);
    if (entry.history) conversations.system(info.room_id, "return_earlier");
    let session: LiveSession;
    try {
      const names = { bot: translate(screens.lang, "bot"), staff: translate(screens.lang, "counsellor") };
      const returning = { ssss: derived.ssss, history: entry.history };
      session = await module.ChatSession.open(info, screens.lang, this.callbacks, names, signal, returning);
    } catch (error) {
      if (signal.aborted) return;
      console.warn("keerpunt: the return did not work:", error instanceof Error ? error.message : error);
      this.teardown("not-started");
      return view.error.show("error_start");
    } finally {
      derived.ssss.fill(0);
    }
    if (signal.aborted) {
      session.stop();
      return;
    }
    this.session = session;
    conversations.system(info.room_id, entry.history ? "return_back" : "return_back_fresh");
    screens.show("chat", null);
    deps.root.classList.add("kp-ready");
    performance.mark("kp-history-shown");
    view.chat.input.focus();
    // Each return rotates the code: the old one is used up already (the bots deleted it).
    void this.makeCode(entry.word, true);
  }

  /**
   * Make a return code for the open case with the visitor's second word (or, `rotated`, a new
   * one after a return): words from the list, the derivation, the history kept under the new 4S
   * key, the code registered with the bots; only then is it shown, to the visitor alone.
   */
  async makeCode(word: string, rotated = false): Promise<void> {
    const { view, conversations, deps } = this;
    const session = this.session;
    const creds = this.credentials;
    if (!session || !creds || !deps.config.returnCode) return;
    let words: string[];
    try {
      words = makeCode(await loadWords());
      const derived = await derive(words, word);
      try {
        await session.protect(derived.ssss);
      } finally {
        derived.ssss.fill(0);
      }
      if (this.session !== session) return;
      const { lookup, verifier, login } = derived;
      if (!(await registerCode(deps.config.api, creds.access_token, { lookup, verifier, login }))) {
        throw new Error("the code was not registered");
      }
    } catch (error) {
      console.warn("keerpunt: no return code:", error instanceof Error ? error.message : error);
      if (this.session !== session) return;
      // After a return the old code is used up already: say so, or the visitor would count on
      // a code that no longer opens anything. The "later" button stays to make a new one.
      if (rotated) conversations.system(creds.room_id, "return_code_lost");
      else view.chat.later?.failed();
      return;
    }
    if (this.session !== session) return; // the chat ended meanwhile: show nothing
    this.hasCode = true;
    view.chat.codeMade(true);
    conversations.system(creds.room_id, "later_made_line");
    view.chat.later?.showCode(showCode(words), rotated);
  }

  /** The visitor confirmed "End chat": the bots close the case (or at least the token dies). */
  async end(): Promise<void> {
    // A session still opening stops now (its account is ended below); no error screen follows.
    this.starting?.abort();
    this.starting = null;
    const creds = this.credentials;
    const withCode = this.hasCode;
    this.ending = true;
    try {
      await this.endWith(creds, withCode);
    } finally {
      this.ending = false;
    }
  }

  private async endWith(creds: SessionInfo | null, withCode: boolean): Promise<void> {
    if (withCode && this.session) {
      // The device goes away: first the backup must hold every key (../shared/notes).
      this.view.chat.showBanner("end_saving");
      if (!(await this.session.settle(SETTLE_MS))) console.warn("keerpunt: the key backup is not complete");
    }
    this.view.ended.withCode(withCode);
    if (creds) {
      try {
        const response = await endSession(this.deps.config.api, creds.access_token, "ended", false);
        if (!response.ok) throw new Error(String(response.status));
      } catch {
        await logout(creds.homeserver, creds.access_token).catch(() => undefined);
      }
    }
    this.teardown("ended");
  }

  /** Quick exit (SECURITY.md A.3): the cover goes up first; see quickexit.ts. */
  exit(): void {
    const { config, host } = this.deps;
    quickExit({
      url: config.quickExitUrl,
      api: config.api,
      cover: () => {
        this.screens.cover.hidden = false;
        this.deps.root.ownerDocument.documentElement.classList.add("kp-exiting");
      },
      credentials: () => {
        const creds = this.credentials;
        return creds ? { homeserver: creds.homeserver, token: creds.access_token } : null;
      },
      wipe: () => this.teardown("quick-exit"),
      leaveTop: (url) => host.post({ protocol: PROTOCOL, action: "quick-exit", url }),
      replace: (url) => this.deps.replace(url),
    });
  }

  /** The page is going away: the conversation goes with it, also one that is still starting. */
  pageHidden(): void {
    if ((this.credentials || this.starting) && !isExiting()) this.teardown("page-hidden");
  }

  /** The "leave this page?" text while a chat is going on; null otherwise (never during an exit). */
  leaveWarning(): string | null {
    return this.active && !isExiting() ? translate(this.screens.lang, "leave_warning") : null;
  }

  /** The one way a conversation ends: everything it held is dropped; TEARDOWN says the rest. */
  teardown(reason: TeardownReason): void {
    const plan = TEARDOWN[reason];
    // A start under way stops at its next step (and ends an account that arrives after this).
    this.starting?.abort();
    this.starting = null;
    const creds = this.credentials;
    this.credentials = null;
    this.active = false;
    this.hasCode = false;
    this.view.start.clearCode(true);
    if (plan.endRequest && creds) {
      endSession(this.deps.config.api, creds.access_token, plan.endRequest, true).catch(() => undefined);
    }
    this.session?.stop();
    this.session = null;
    this.composer.reset();
    this.conversations.clear();
    // No banner, queue or typing line of this conversation may show up in the next one.
    this.view.chat.reset();
    if (plan.emptyPage) this.deps.root.replaceChildren();
    if (plan.showEnded) this.screens.show("ended");
  }
}
