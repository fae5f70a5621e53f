/**
 * The conversations the visitor has (the case room, and a handover room once there is one) and
 * which of them is shown: pure bookkeeping, no DOM (conversations.ts draws it).
 */

export type NavigationKey = "ArrowLeft" | "ArrowRight" | "Home" | "End";

export class Switcher {
  private readonly order: string[] = [];
  private readonly unreadCounts = new Map<string, number>();
  private current: string | null = null;

  /** Add a conversation (once); the first one becomes the active one. True when it was new. */
  add(id: string): boolean {
    if (this.order.includes(id)) return false;
    this.order.push(id);
    this.unreadCounts.set(id, 0);
    if (this.current === null) this.current = id;
    return true;
  }

  get ids(): readonly string[] {
    return this.order;
  }

  get active(): string | null {
    return this.current;
  }

  /** More than one conversation: only then is there anything to switch between. */
  get switchable(): boolean {
    return this.order.length > 1;
  }

  has(id: string): boolean {
    return this.order.includes(id);
  }

  /** Show `id`; its unread count goes back to zero. True when the active conversation changed. */
  activate(id: string): boolean {
    if (!this.has(id)) return false;
    this.unreadCounts.set(id, 0);
    if (this.current === id) return false;
    this.current = id;
    return true;
  }

  /** A message arrived in `id`: counted as unread unless that conversation is shown. */
  incoming(id: string): number {
    if (!this.has(id) || id === this.current) return 0;
    const count = (this.unreadCounts.get(id) ?? 0) + 1;
    this.unreadCounts.set(id, count);
    return count;
  }

  unread(id: string): number {
    return this.unreadCounts.get(id) ?? 0;
  }

  /** The tab that arrow keys, Home and End move to from `id` (wrapping around), or null. */
  neighbour(id: string, key: string): string | null {
    const at = this.order.indexOf(id);
    if (at < 0 || this.order.length === 0) return null;
    const last = this.order.length - 1;
    const next =
      key === "ArrowRight" ? (at === last ? 0 : at + 1)
      : key === "ArrowLeft" ? (at === 0 ? last : at - 1)
      : key === "Home" ? 0
      : key === "End" ? last
      : null;
    return next === null ? null : (this.order[next] ?? null);
  }

  clear(): void {
    this.order.length = 0;
    this.unreadCounts.clear();
    this.current = null;
  }
}
