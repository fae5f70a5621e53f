import { describe, expect, it, vi } from "vitest";
import { JOIN_ATTEMPTS, Rooms, type RoomsDeps } from "../../src/app/session/rooms";

const ME = "@visitor-x:k";
const BOT = "@keerpunt:k";
const CASE = "!case:k";

function rooms(over: Partial<RoomsDeps> = {}) {
  const callbacks = { handover: vi.fn(), ended: vi.fn(), closed: vi.fn(), memberJoined: vi.fn(), memberLeft: vi.fn() };
  const joined: string[] = [];
  const waits: number[] = [];
  let stopped = false;
  const r = new Rooms({
    me: ME,
    bot: BOT,
    caseRoom: CASE,
    join: async (room) => {
      joined.push(room);
    },
    callbacks,
    stopped: () => stopped,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...over,
  });
  return { r, callbacks, joined, waits, stop: () => (stopped = true) };
}

const invite = (room: string, sender: string) => ({ roomId: room, target: ME, sender, membership: "invite" });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Rooms", () => {
  it("knows the case room from the start, and no other room", () => {
    const { r } = rooms();
    expect(r.has(CASE)).toBe(true);
    expect(r.kind(CASE)).toBe("case");
    expect(r.has("!other:k")).toBe(false);
    expect(r.kind("!other:k")).toBeNull();
  });

  it("joins a room the bot invites to, as a handover room, announced once", async () => {
    const { r, callbacks, joined } = rooms();
    r.myMembership("!h:k", "invite", invite("!h:k", BOT));
    await settle();
    expect(joined).toEqual(["!h:k"]);
    expect(r.kind("!h:k")).toBe("handover");
    expect(callbacks.handover).toHaveBeenCalledTimes(1);
    r.myMembership("!h:k", "invite", invite("!h:k", BOT));
    r.myMembership("!h:k", "join", null);
    r.announce("!h:k");
    await settle();
    expect(joined).toEqual(["!h:k"]);
    expect(callbacks.handover).toHaveBeenCalledTimes(1);
  });

  it("never joins or shows a room anyone else invites to, nor the case room again", async () => {
    const { r, callbacks, joined } = rooms();
    r.myMembership("!foreign:k", "invite", invite("!foreign:k", "@stranger:k"));
    r.myMembership("!foreign:k", "join", null);
    r.myMembership(CASE, "invite", invite(CASE, BOT));
    r.myMembership("!nobody:k", "invite", null);
    await settle();
    expect(joined).toEqual([]);
    expect(r.has("!foreign:k")).toBe(false);
    expect(callbacks.handover).not.toHaveBeenCalled();
  });

  it("tries to join a handover room five times with growing waits, then gives up and forgets it", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const join = vi.fn(async () => Promise.reject(new Error("rate limited")));
    const { r, callbacks, waits } = rooms({ join });
    r.myMembership("!h:k", "invite", invite("!h:k", BOT));
    await vi.waitFor(() => expect(r.has("!h:k")).toBe(false));
    expect(join).toHaveBeenCalledTimes(JOIN_ATTEMPTS);
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    expect(callbacks.handover).not.toHaveBeenCalled();
    expect(warn.mock.calls[0]?.join(" ")).not.toContain("!h:k"); // no room ID in the console
    warn.mockRestore();
  });

  it("joins nothing and reports nothing once stopped", async () => {
    const { r, callbacks, joined, stop } = rooms();
    stop();
    r.myMembership("!h:k", "invite", invite("!h:k", BOT));
    r.membership({ room: CASE, user: ME, membership: "leave", previous: "join" });
    await settle();
    expect(joined).toEqual([]);
    expect(callbacks.ended).not.toHaveBeenCalled();
  });

  it("ends the chat when the visitor is out of the case room", () => {
    for (const membership of ["leave", "ban"]) {
      const { r, callbacks } = rooms();
      r.membership({ room: CASE, user: ME, membership, previous: "join" });
      expect(callbacks.ended).toHaveBeenCalledTimes(1);
    }
    const { r, callbacks } = rooms();
    r.membership({ room: CASE, user: ME, membership: "join", previous: "invite" });
    expect(callbacks.ended).not.toHaveBeenCalled();
  });

  it("closes a handover room the visitor was in and left, not one only invited to", async () => {
    const { r, callbacks } = rooms();
    r.myMembership("!h:k", "invite", invite("!h:k", BOT));
    await settle();
    r.membership({ room: "!h:k", user: ME, membership: "leave", previous: "invite" });
    expect(callbacks.closed).not.toHaveBeenCalled();
    r.membership({ room: "!h:k", user: ME, membership: "leave", previous: "join" });
    expect(callbacks.closed).toHaveBeenCalledWith("!h:k");
    expect(callbacks.ended).not.toHaveBeenCalled();
  });

  it("says when a counsellor joins or leaves the case room, not the bot, not in a handover room", async () => {
    const { r, callbacks } = rooms();
    r.membership({ room: CASE, user: "@anna:k", membership: "invite", previous: undefined });
    r.membership({ room: CASE, user: "@anna:k", membership: "join", previous: "invite" });
    r.membership({ room: CASE, user: "@anna:k", membership: "join", previous: "join" }); // a profile change
    expect(callbacks.memberJoined).toHaveBeenCalledTimes(1);
    r.membership({ room: CASE, user: "@anna:k", membership: "leave", previous: "join" });
    expect(callbacks.memberLeft).toHaveBeenCalledTimes(1);
    r.membership({ room: CASE, user: BOT, membership: "leave", previous: "join" });
    r.myMembership("!h:k", "invite", invite("!h:k", BOT));
    await settle();
    r.membership({ room: "!h:k", user: "@partner:k", membership: "join", previous: "invite" });
    r.membership({ room: "!other:k", user: "@anna:k", membership: "join", previous: "invite" });
    expect(callbacks.memberJoined).toHaveBeenCalledTimes(1);
    expect(callbacks.memberLeft).toHaveBeenCalledTimes(1);
  });

  it("leaves a colleague who reads along to the bot's notice: no 'counsellor joined' or 'left' for them", () => {
    const { r, callbacks } = rooms();
    r.learnSupervisor(CASE, "@sam:k");
    r.membership({ room: CASE, user: "@sam:k", membership: "join", previous: "invite" });
    r.membership({ room: CASE, user: "@sam:k", membership: "leave", previous: "join" });
    expect(callbacks.memberJoined).not.toHaveBeenCalled();
    expect(callbacks.memberLeft).not.toHaveBeenCalled();
    r.membership({ room: CASE, user: "@anna:k", membership: "join", previous: "invite" });
    expect(callbacks.memberJoined).toHaveBeenCalledTimes(1);
  });

  it("remembers intake staff's organisations per room, and forgets everything on clear", () => {
    const { r } = rooms();
    r.learnOrganisation(CASE, "@i:k", "Politie");
    r.learnOrganisation("!unknown:k", "@i:k", "Politie");
    expect(r.organisation(CASE, "@i:k")).toBe("Politie");
    expect(r.organisation("!unknown:k", "@i:k")).toBeNull();
    r.clear();
    expect(r.has(CASE)).toBe(false);
    expect(r.organisation(CASE, "@i:k")).toBeNull();
  });
});
