/**
 * Shift pressed three times, alone, each press within `windowMs` of the previous one
 * (SECURITY.md A.2, as GOV.UK's "Exit this page"). Any other key resets the count, and a Shift
 * used as a modifier (Shift+A) does not count. A press counts when Shift is released.
 */
export interface KeyLike {
  key: string;
  repeat?: boolean;
}

export class ShiftCounter {
  private count = 0;
  private last = 0;
  private shiftDown = false;
  private usedAsModifier = false;

  constructor(
    private readonly onTrigger: () => void,
    private readonly now: () => number = () => Date.now(),
    private readonly windowMs = 5000,
    private readonly needed = 3,
  ) {}

  keydown(event: KeyLike): void {
    if (event.key === "Shift") {
      if (event.repeat) return;
      this.shiftDown = true;
      this.usedAsModifier = false;
      return;
    }
    if (this.shiftDown) this.usedAsModifier = true;
    this.reset();
  }

  keyup(event: KeyLike): void {
    if (event.key !== "Shift") return;
    const alone = this.shiftDown && !this.usedAsModifier;
    this.shiftDown = false;
    this.usedAsModifier = false;
    if (!alone) return;
    const t = this.now();
    if (this.count > 0 && t - this.last > this.windowMs) this.count = 0;
    this.count += 1;
    this.last = t;
    if (this.count >= this.needed) {
      this.reset();
      this.onTrigger();
    }
  }

  /** Focus moving away or a pointer press resets nothing; only keys and time do. */
  reset(): void {
    this.count = 0;
    this.last = 0;
  }

  get pressed(): number {
    return this.count;
  }
}
