/**
 * The embedding page (through the embed script), when there is one. Every message names the
 * host's origin as its target (SECURITY.md D.21), and only messages from that origin and that
 * window are read (shared/protocol.ts).
 */
import { parseHostMessage, type AppToHost, type HostToApp } from "../shared/protocol";

export interface HostLink {
  /** Send to the embedding page; false when there is none. */
  post(message: AppToHost): boolean;
  /** The host's message, or null when it is not one (wrong origin, window or action). */
  read(event: Pick<MessageEvent, "origin" | "source" | "data">): HostToApp | null;
}

/** `host`: the embedding page's origin as the portal checked it; null when not embedded. */
export function hostLink(parent: Pick<Window, "postMessage"> | null, host: string | null): HostLink {
  return {
    post(message) {
      if (!parent || !host) return false;
      parent.postMessage(message, host);
      return true;
    },
    read(event) {
      return parseHostMessage(event, host, parent);
    },
  };
}
