/** Shared set-up for the app's jsdom tests (not a test file itself). */
import { vi } from "vitest";
import type { WidgetConfig } from "../../src/app/config";
import type { SessionInfo } from "../../src/app/api";
import type { LiveSession, Returning, SessionCallbacks, SessionModule } from "../../src/app/session/types";

/** jsdom has <dialog> but not its modal methods. */
export function dialogs(): void {
  const proto = HTMLDialogElement.prototype as unknown as Record<string, unknown>;
  proto.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute("open", "");
  };
  proto.close ??= function (this: HTMLDialogElement) {
    this.removeAttribute("open");
  };
}

export const CONFIG: WidgetConfig = {
  language: "nl",
  api: "/api/v1",
  homeserver: "https://hs.test",
  quickExitUrl: "https://weer.test/",
  portalUrl: "/nl/",
  hours: { nl: "ma–vr 09:00–21:00.", en: "Mon–Fri 09:00–21:00." },
  openNow: true,
  opensAt: null,
  host: null,
  pageHeader: false,
  returnCode: null,
  later: null,
};

export const SESSION: SessionInfo = {
  homeserver: "https://hs.test",
  user_id: "@visitor-x:hs.test",
  access_token: "secret-token",
  device_id: "DEV",
  room_id: "!case:hs.test",
  bot: "@keerpunt:hs.test",
  case: "4821",
};

export interface Call {
  url: string;
  init: RequestInit;
  body: Record<string, unknown> | null;
}

/**
 * fetch, answered like the session API and the homeserver would; every call recorded but the
 * proof of work's challenge, which these bots never ask for (test/challenge.test.ts tests it).
 */
export function stubFetch(answers: { sessions?: () => Response | Promise<Response>; end?: () => Promise<Response> } = {}): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    if (url.endsWith("/sessions/challenge")) return Response.json({ challenge: null, level: null });
    calls.push({ url, init, body: init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : null });
    if (url.endsWith("/sessions")) return (await answers.sessions?.()) ?? Response.json(SESSION, { status: 201 });
    if (url.endsWith("/sessions/end")) return (await answers.end?.()) ?? new Response(null, { status: 204 });
    return new Response("{}", { status: 200 });
  });
  return calls;
}

/**
 * A session module whose ChatSession.open records what it got and hands out a fake session.
 * It does not look at the abort signal: the app must cope with an open() that finishes anyway.
 */
export function fakeSessionModule(open?: () => Promise<void>) {
  const session = {
    send: vi.fn(async (_room: string, _body: string, _reply?: { prompt: string; option: string }) => undefined),
    retry: vi.fn(async (_key: string) => undefined),
    typing: vi.fn((_room: string, _active: boolean) => undefined),
    protect: vi.fn(async (_key: Uint8Array) => undefined),
    settle: vi.fn(async (_limitMs: number) => true),
    stop: vi.fn(() => undefined),
  } satisfies LiveSession;
  const opened: {
    info: SessionInfo;
    language: string;
    callbacks: SessionCallbacks;
    names: { bot: string; staff: string };
    signal: AbortSignal | undefined;
    returning: Returning | undefined;
  }[] = [];
  const module: SessionModule = {
    warmUp: vi.fn(),
    ChatSession: {
      open: async (info, language, callbacks, names, signal, returning) => {
        opened.push({ info, language, callbacks, names, signal, returning });
        await open?.();
        return session;
      },
    },
  };
  return { module, session, opened };
}

export function visible(root: ParentNode): HTMLElement | undefined {
  return [...root.querySelectorAll<HTMLElement>(".kp-screen")].find((s) => !s.hidden);
}

/** A promise with its resolve and reject outside. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Pick a language in the header's language choice, as a visitor does. */
export function pickLanguage(screens: { langSelect: HTMLSelectElement }, language: string): void {
  screens.langSelect.value = language;
  screens.langSelect.dispatchEvent(new Event("change"));
}
