/**
 * What the session's news does to the screen: the session (session.ts) reports per room, this
 * turns it into messages, system lines, tabs, banners and the queue line.
 */
import type { Conversations } from "./conversations";
import type { ChatView } from "./screens/chat";
import type { FeedbackOffer } from "./content";
import type { SessionCallbacks } from "./session/types";

export const BANNER_BACK_MS = 4000;

export interface SessionViewDeps {
  conversations: Conversations;
  chat: ChatView;
  /** The case room of the running session (handover lines are also written there). */
  caseRoom(): string | null;
  /** The session ended from the other side (the case was closed, the account erased). */
  ended(): void;
  /** The verdict's ticket and questions arrived (asked once the chat ends). */
  feedback(offer: FeedbackOffer): void;
}

export function sessionView(deps: SessionViewDeps): SessionCallbacks {
  const { conversations, chat } = deps;
  const follow = (): void => chat.follow(conversations.active);
  return {
    message: (room, view) => conversations.message(room, view),
    remove: (room, key) => conversations.get(room)?.list.remove(key),
    memberJoined: (room) => {
      chat.showQueue(null);
      conversations.system(room, "counsellor_joined");
    },
    memberLeft: (room) => conversations.system(room, "counsellor_left"),
    typing: (room, names) => {
      const conversation = conversations.get(room);
      if (!conversation) return;
      conversation.typing = names;
      if (conversation === conversations.active) follow();
    },
    connection: (ok) => {
      if (ok) chat.showBanner("connection_back", BANNER_BACK_MS);
      else chat.showBanner("connection_lost");
    },
    queue: (info) => chat.showQueue(info),
    untrusted: () => chat.showBanner("untrusted"),
    closed: (room) => {
      const conversation = conversations.get(room);
      if (!conversation || conversation.closed) return;
      conversation.closed = true;
      if (conversation.kind !== "case") conversations.system(room, "conversation_closed");
      if (conversation !== conversations.active) return;
      follow();
      chat.endButton.focus();
    },
    ended: () => deps.ended(),
    handover: (room) => {
      const caseRoom = deps.caseRoom();
      conversations.open(room, "handover");
      conversations.system(room, "handover_started");
      if (caseRoom) conversations.system(caseRoom, "handover_case_line");
      conversations.activate(room);
    },
    partner: (room, name) => conversations.setPartner(room, name),
    reopenPrompt: (room, prompt) => conversations.get(room)?.list.reopen(prompt),
    feedback: (offer) => deps.feedback(offer),
  };
}
