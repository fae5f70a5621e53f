import { afterEach, describe, expect, it, vi } from "vitest";
import { Trust, UntrustedError, type TrustCrypto } from "../../src/app/session/trust";

const ME = { user: "@visitor-x:k", device: "VISITOR" };

/** Devices per user, and which of them are signed by their owner. */
function crypto(devices: Record<string, Record<string, boolean>>): TrustCrypto & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    getUserDeviceInfo: async (users: string[]) => {
      asked.push(users);
      return new Map(users.map((u) => [u, new Map(Object.keys(devices[u] ?? {}).map((d) => [d, {}]))])) as never;
    },
    getDeviceVerificationStatus: async (user: string, device: string) =>
      ({ signedByOwner: devices[user]?.[device] ?? false }) as never,
  };
}

function room(...members: string[]) {
  return { getJoinedMembers: () => members.map((userId) => ({ userId })) };
}

describe("Trust", () => {
  afterEach(() => vi.useRealTimers());

  it("finds a signed device among the other joined members", async () => {
    const c = crypto({ "@anna:k": { A1: false, A2: true } });
    const trust = new Trust(c, ME, () => room(ME.user, "@anna:k"), vi.fn());
    expect(await trust.signedRecipientExists("!case")).toBe(true);
    expect(c.asked).toEqual([["@anna:k"]]); // never our own devices: they cannot stand in for a reader
  });

  it("finds none when the others' devices are unsigned, nobody else is in the room, or the room is unknown", async () => {
    const c = crypto({ "@anna:k": { A1: false }, [ME.user]: { VISITOR: true } });
    expect(await new Trust(c, ME, () => room(ME.user, "@anna:k"), vi.fn()).signedRecipientExists("!r")).toBe(false);
    expect(await new Trust(c, ME, () => room(ME.user), vi.fn()).signedRecipientExists("!r")).toBe(false);
    expect(await new Trust(c, ME, () => null, vi.fn()).signedRecipientExists("!r")).toBe(false);
  });

  it("tells the visitor and refuses with UntrustedError when nobody could read a message", async () => {
    const untrusted = vi.fn();
    const trust = new Trust(crypto({ "@anna:k": { A1: false } }), ME, () => room(ME.user, "@anna:k"), untrusted);
    await expect(trust.requireSignedRecipient("!case")).rejects.toBeInstanceOf(UntrustedError);
    expect(untrusted).toHaveBeenCalledWith("!case");
  });

  it("lets a message go when a recipient is signed, saying nothing", async () => {
    const untrusted = vi.fn();
    const trust = new Trust(crypto({ "@bot:k": { B: true } }), ME, () => room(ME.user, "@bot:k"), untrusted);
    await expect(trust.requireSignedRecipient("!case")).resolves.toBeUndefined();
    expect(untrusted).not.toHaveBeenCalled();
  });

  it("waits until our own device shows as cross-signed, fetching our keys again each time", async () => {
    const devices: Record<string, Record<string, boolean>> = { [ME.user]: { VISITOR: false } };
    const c = crypto(devices);
    const trust = new Trust(c, ME, () => null, vi.fn());
    let done = false;
    const waiting = trust.requireOwnSignature(5000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 250));
    expect(done).toBe(false);
    devices[ME.user] = { VISITOR: true };
    await waiting;
    expect(c.asked.length).toBeGreaterThan(1);
    expect(c.asked.every((users) => users.length === 1 && users[0] === ME.user)).toBe(true);
  });

  it("gives up when our own device never gets signed", async () => {
    vi.useFakeTimers();
    const trust = new Trust(crypto({ [ME.user]: { VISITOR: false } }), ME, () => null, vi.fn());
    const waiting = trust.requireOwnSignature(1000);
    const failed = expect(waiting).rejects.toThrow("own device is not cross-signed");
    await vi.advanceTimersByTimeAsync(1500);
    await failed;
  });
});
