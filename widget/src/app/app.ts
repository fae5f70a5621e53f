/**
 * The chat app: its state (the running session, its credentials, whether a chat is going on) and
 * what happens to it: start, send, end, quick exit. One instance per page (main.ts makes it); tests
 * make their own with a fake session module and a stubbed fetch. Every way a conversation ends goes
 * through `teardown(reason)` (TEARDOWN says how the ways differ). The Matrix SDK and Rust crypto
 * load only when the visitor presses "Start" (session.ts).
 */
import { PROTOCOL } from "../shared/protocol";
import { endOrLogout, endSession, type SessionInfo } from "./api";
import { startProven } from "./challenge/proof";
import type { WidgetConfig } from "./config";
import type { FeedbackOffer } from "./content";
import { Composer } from "./composer";
import { Conversations } from "./conversations";
import type { HostLink } from "./host";
import { translate } from "./i18n";
import { startRequest, type Outreach } from "./outreach";
import { sdkLoader, type LoaderDeps } from "./loader";
import { isExiting, quickExit } from "./quickexit";
import { ReturnFlow } from "./returncode/flow";
import { buildScreens, mountScreens, type AppView } from "./screens";
import type { LiveSession, Returning, SessionCallbacks, SessionModule } from "./session/types";
import { sessionView } from "./sessionview";
import { TEARDOWN, type TeardownReason } from "./teardown";
import { Screens } from "./ui";

export interface AppDeps extends LoaderDeps {
  config: WidgetConfig;
  root: HTMLElement;
  /** Embedded in a host page (not inline): the header gets a "minimise" button. */
  minimisable: boolean;
  outreach: Outreach;
  host: HostLink;
  /** Go to `url`, replacing this history entry. */
  replace(url: string): void;
  reload(): void;
}

export class ChatApp {
  readonly screens: Screens;
  readonly conversations: Conversations;
  readonly view: AppView;
  private session: LiveSession | null = null;
  private credentials: SessionInfo | null = null;
  private active = false;
  /** Coming back with a return code and making one; null when return codes are off. */
  private readonly codes: ReturnFlow | null;
  /** end() is under way (it chose the ended screen's text). */
  private ending = false;
  /** The start under way, if any; every teardown aborts it. */
  private starting: AbortController | null = null;
  /**
   * Start loading the SDK and the crypto (loader.ts), once; a start finds the load under way or
   * done. Called when the visitor asks for the chat, never before.
   */
  readonly warm: () => Promise<SessionModule>;
  private readonly composer: Composer;
  private readonly callbacks: SessionCallbacks;

  constructor(private readonly deps: AppDeps) {
    const { config, root } = deps;
    this.warm = sdkLoader(deps);
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
      makeCode: (word) => void this.codes?.makeCode(word),
      writeLater: () => this.codes?.writeLater(() => void this.start()),
    });
    const chat = this.view.chat;
    this.codes = config.returnCode
      ? new ReturnFlow({
          api: config.api,
          screens,
          view: this.view,
          conversations,
          warm: () => this.warm(),
          open: (info, loading, signal, returning) => this.openSession(info, loading, signal, returning),
          current: () => (this.session && this.credentials ? { session: this.session, credentials: this.credentials } : null),
        })
      : null;
    this.composer = new Composer(() => this.session, conversations, chat);
    const caseRoom = (): string | null => this.credentials?.room_id ?? null;
    const feedback = (offer: FeedbackOffer): void => this.view.ended.offer(offer);
    this.callbacks = sessionView({ conversations, chat, caseRoom, feedback, ended: () => {
        // Closed from the other side: nothing to come back to. (Ending with a code also signs
        // this device out, which can arrive here while end() still waits for its answer.)
        if (!this.ending) this.view.ended.withCode(false);
        this.teardown("ended");
      },
    });
    mountScreens(root, screens, this.view, config.pageHeader, () => deps.host.post({ protocol: PROTOCOL, action: "minimise" }));
  }

  /** For tests and the page's handlers: what the app holds right now. */
  get state(): { session: LiveSession | null; credentials: SessionInfo | null; active: boolean } {
    return { session: this.session, credentials: this.credentials, active: this.active };
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
    const back = this.codes ? view.start.returnCode() : null;
    if (back && this.codes) return this.codes.comeBack(back, signal);
    screens.show("connecting");
    const loading = this.warm(); // the SDK and crypto load (if not yet) while the API makes the account and room
    loading.catch(() => undefined);
    const slow = () => screens.root.querySelector(".kp-slow")?.removeAttribute("hidden"); // a harder proof of work
    const request = startRequest(screens.lang, deps.outreach, view.start.code(), this.codes?.wantLater);
    const result = await startProven(deps.config.api, request, signal, slow);
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
      return view.closed.show(result.opensAt, result.later && this.codes !== null);
    }
    if (!(await this.openSession(result.session, loading, signal))) return;
    // On a touch screen focusing the composer opens the keyboard over the first question's
    // buttons: there the chat's heading gets focus (screen readers start at the chat).
    if (window.matchMedia?.("(pointer: coarse)").matches) view.chat.section.querySelector<HTMLElement>("h1")?.focus();
    else view.chat.input.focus();
  }

  /**
   * The step both starts share once they have an account (a new one from the API, or the
   * visitor's own after a return): keep its credentials, check its homeserver, wait for the SDK,
   * open the case room and the encrypted session. A new chat shows at once (the greeting comes
   * in view); a return (`returning`) shows when its history is restored, after a line saying
   * where that starts. Null when it did not open: then the error shows and the account is ended,
   * or the start was torn down meanwhile and shows nothing.
   */
  private async openSession(
    info: SessionInfo,
    loading: Promise<SessionModule>,
    signal: AbortSignal,
    returning?: Returning,
  ): Promise<LiveSession | null> {
    const { screens, conversations, view, deps } = this;
    this.credentials = info;
    this.active = true;
    if (deps.config.homeserver && info.homeserver !== deps.config.homeserver) {
      // The page's CSP only allows the configured homeserver; anything else cannot work.
      this.teardown("not-started");
      view.error.show("error_start");
      return null;
    }
    let module: SessionModule;
    try {
      module = await loading;
    } catch {
      if (signal.aborted) return null; // the teardown ended the account
      this.teardown("not-started");
      view.error.show("error_browser");
      return null;
    }
    if (signal.aborted) return null;
    conversations.clear();
    conversations.open(info.room_id, "case");
    view.chat.follow(conversations.active);
    if (!returning) screens.show("chat", null);
    else if (returning.history) conversations.system(info.room_id, "return_earlier");
    let session: LiveSession;
    try {
      const names = { bot: translate(screens.lang, "bot"), staff: translate(screens.lang, "counsellor") };
      session = await module.ChatSession.open(info, screens.lang, this.callbacks, names, signal, returning);
    } catch (error) {
      if (signal.aborted) return null; // open() stopped its client; the teardown did the rest
      // Also when nobody in the room could read us (UntrustedError): there is no chat to keep.
      const what = returning ? "the return did not work" : "the chat could not start";
      console.warn(`keerpunt: ${what}:`, error instanceof Error ? error.message : error);
      this.teardown("not-started");
      view.error.show("error_start");
      return null;
    }
    if (signal.aborted) {
      session.stop(); // it opened after all: it must not keep syncing
      return null;
    }
    this.session = session;
    deps.root.classList.add("kp-ready");
    return session;
  }

  /** "Try again" on the error screen: after a refused return, back to the code; else start again. */
  private retry(): void {
    if (!this.codes?.again()) void this.start();
  }

  /** The visitor confirmed "End chat": the bots close the case (or at least the token dies). */
  async end(): Promise<void> {
    // A session still opening stops now (its account is ended below); no error screen follows.
    this.starting?.abort();
    this.starting = null;
    const creds = this.credentials;
    this.ending = true;
    try {
      // With a return code the device goes away: first the key backup must hold every key.
      this.view.ended.withCode((await this.codes?.settle(this.session)) ?? false);
      if (creds) await endOrLogout(this.deps.config.api, creds, this.codes?.endReason());
      this.teardown("ended");
    } finally {
      this.ending = false;
    }
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
    this.codes?.reset();
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
    else this.view.ended.forget(); // the verdict is asked only after a chat that ended normally
  }
}
