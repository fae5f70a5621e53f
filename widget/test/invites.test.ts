import { describe, expect, it, vi } from "vitest";
import { RoomEvent } from "matrix-js-sdk";
import { acceptInvite } from "../src/app/invites";
import { ChatSession, type SessionCallbacks } from "../src/app/session";

const rule = { me: "@visitor-x:k", bot: "@keerpunt:k", caseRoom: "!case:k" };
const invite = { roomId: "!handover:k", target: "@visitor-x:k", sender: "@keerpunt:k", membership: "invite" };

describe("acceptInvite", () => {
  it("accepts the bot's invite of the visitor", () => {
    expect(acceptInvite(rule, invite)).toBe(true);
  });

  it("ignores an invite from anyone else, even staff or a look-alike of the bot", () => {
    expect(acceptInvite(rule, { ...invite, sender: "@anna:k" })).toBe(false);
    expect(acceptInvite(rule, { ...invite, sender: "@keerpunt:evil.example" })).toBe(false);
    expect(acceptInvite(rule, { ...invite, sender: undefined })).toBe(false);
  });

  it("ignores what is not an invite of the visitor, and the case room (joined at start)", () => {
    expect(acceptInvite(rule, { ...invite, membership: "join" })).toBe(false);
    expect(acceptInvite(rule, { ...invite, target: "@someone:k" })).toBe(false);
    expect(acceptInvite(rule, { ...invite, roomId: "!case:k" })).toBe(false);
  });
});

/** A stand-in for the Matrix client: events in, joinRoom recorded. */
class FakeClient {
  private readonly handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  joined: string[] = [];
  on(name: string, handler: (...args: unknown[]) => void): void {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
  }
  emit(name: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(name) ?? []) handler(...args);
  }
  async joinRoom(roomId: string): Promise<unknown> {
    this.joined.push(roomId);
    return {};
  }
  getRoom(): null {
    return null;
  }
}

function invitedRoom(roomId: string, sender: string): unknown {
  const member = {
    getStateKey: () => rule.me,
    getSender: () => sender,
    getContent: () => ({ membership: "invite" }),
  };
  return { roomId, currentState: { getStateEvents: (type: string, key: string) => (type === "m.room.member" && key === rule.me ? member : null) } };
}

function session(): { client: FakeClient; callbacks: SessionCallbacks } {
  const client = new FakeClient();
  const callbacks = Object.fromEntries(
    ["message", "remove", "memberJoined", "memberLeft", "typing", "connection", "queue", "untrusted", "closed", "ended", "handover", "partner", "reopenPrompt"].map((name) => [name, vi.fn()]),
  ) as unknown as SessionCallbacks;
  const info = { homeserver: "https://k", user_id: rule.me, access_token: "t", device_id: "D", room_id: rule.caseRoom, bot: rule.bot, case: "1" };
  // Put together as open() does after crypto and sync; the listeners are what matter here.
  new ChatSession(client as never, {} as never, info, callbacks, { bot: "Keerpunt", staff: "Hulpverlener" });
  return { client, callbacks };
}

describe("the session's invites", () => {
  it("joins the room the bot invites to and opens it as a handover conversation", async () => {
    const { client, callbacks } = session();
    client.emit(RoomEvent.MyMembership, invitedRoom("!handover:k", rule.bot), "invite");
    await vi.waitFor(() => expect(callbacks.handover).toHaveBeenCalledWith("!handover:k"));
    expect(client.joined).toEqual(["!handover:k"]);
    client.emit(RoomEvent.MyMembership, invitedRoom("!handover:k", rule.bot), "invite");
    await Promise.resolve();
    expect(client.joined).toEqual(["!handover:k"]);
    expect(callbacks.handover).toHaveBeenCalledTimes(1);
  });

  it("never joins, nor shows, a room someone else invites to", async () => {
    const { client, callbacks } = session();
    client.emit(RoomEvent.MyMembership, invitedRoom("!foreign:k", "@stranger:k"), "invite");
    client.emit(RoomEvent.MyMembership, invitedRoom("!foreign:k", "@stranger:k"), "join");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.joined).toEqual([]);
    expect(callbacks.handover).not.toHaveBeenCalled();
  });
});
