/**
 * What the visitor writes or picks goes to the conversation it belongs to, and "is typing"
 * follows the composer. A send that fails shows as not sent, with a retry button (outbox.ts).
 */
import type { Conversations } from "./conversations";
import type { ChatView } from "./screens/chat";
import type { LiveSession } from "./session/types";
import { TypingNotifier } from "./typing";

export class Composer {
  private readonly typing = new TypingNotifier((room, active) => this.session()?.typing(room, active));

  constructor(
    private readonly session: () => LiveSession | null,
    private readonly conversations: Conversations,
    private readonly chat: ChatView,
  ) {}

  /** Text from the composer, to the conversation shown. False: no chat to send it to. */
  send(body: string): boolean {
    const room = this.conversations.active?.room;
    if (!this.session() || !room) return false;
    void this.sendText(room, body);
    return true;
  }

  /** A prompt's button: its group is answered, the answer goes to the prompt's own room. */
  option(room: string, prompt: string, option: string, label: string, group: HTMLElement): void {
    for (const b of group.querySelectorAll("button")) b.disabled = true;
    this.chat.input.focus();
    void this.sendText(room, label, { prompt, option });
  }

  typed(): void {
    const room = this.conversations.active?.room;
    if (this.session() && room) this.typing.typed(room);
  }

  reset(): void {
    this.typing.reset();
  }

  private async sendText(room: string, body: string, reply?: { prompt: string; option: string }): Promise<void> {
    const session = this.session();
    if (!session) return;
    this.chat.hideBanner();
    session.typing(room, false);
    try {
      await session.send(room, body, reply);
    } catch {
      /* the message shows as not sent, with a retry button */
    }
  }
}
