/**
 * "Is typing" for the visitor: on with the first keystroke in a conversation, off after three
 * quiet seconds, or at once when the visitor moves to another conversation.
 */
export const TYPING_IDLE_MS = 3000;

export class TypingNotifier {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private room: string | null = null;

  constructor(
    private readonly send: (room: string, active: boolean) => void,
    private readonly idleMs = TYPING_IDLE_MS,
  ) {}

  /** The visitor typed in `room`'s composer. */
  typed(room: string): void {
    if (this.room && this.room !== room) this.send(this.room, false);
    if (!this.timer || this.room !== room) this.send(room, true);
    this.room = room;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.room) this.send(this.room, false);
      this.room = null;
    }, this.idleMs);
  }

  /** Forget everything without telling anyone (the session is gone). */
  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.room = null;
  }
}
