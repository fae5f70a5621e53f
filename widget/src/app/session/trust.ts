/**
 * Who can read us (DESIGN.md E2EE rules 2 and 7). Our own device must show as signed by our own
 * cross-signing key before we say anything, and a send can succeed with nobody able to read it,
 * so every send first checks that some other joined member has a device signed by its owner.
 */
import type { CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js";
import { sleep, WAIT_LIMIT_MS } from "./wait";

export class UntrustedError extends Error {
  constructor() {
    super("no recipient device is signed by its owner");
  }
}

export type TrustCrypto = Pick<CryptoApi, "getUserDeviceInfo" | "getDeviceVerificationStatus">;

/** The joined members of a room, as far as the check needs them. */
export interface MembersOf {
  getJoinedMembers(): { userId: string }[];
}

export class Trust {
  constructor(
    private readonly crypto: TrustCrypto,
    private readonly me: { user: string; device: string },
    private readonly roomOf: (roomId: string) => MembersOf | null,
    private readonly untrusted: (roomId: string) => void,
  ) {}

  /** Waits (re-fetching our keys) until our device is cross-signed; throws after `limitMs`. */
  async requireOwnSignature(limitMs = WAIT_LIMIT_MS): Promise<void> {
    const { user, device } = this.me;
    const deadline = Date.now() + limitMs;
    for (;;) {
      await this.crypto.getUserDeviceInfo([user], true);
      if ((await this.crypto.getDeviceVerificationStatus(user, device))?.signedByOwner) return;
      if (Date.now() > deadline) throw new Error("own device is not cross-signed");
      await sleep(100);
    }
  }

  /** Fetch these users' device keys now, so the checks below find them without a round trip. */
  async prefetch(users: string[]): Promise<void> {
    await this.crypto.getUserDeviceInfo(users, true).catch(() => undefined);
  }

  /** Refuse (and tell the visitor) when no recipient device in `roomId` is signed by its owner. */
  async requireSignedRecipient(roomId: string): Promise<void> {
    if (!(await this.signedRecipientExists(roomId))) {
      this.untrusted(roomId);
      throw new UntrustedError();
    }
  }

  async signedRecipientExists(roomId: string): Promise<boolean> {
    const room = this.roomOf(roomId);
    if (!room) return false;
    // Joined members only: case rooms share history with members from their join on, so an
    // invited device gets no key for what is sent now.
    const others = room
      .getJoinedMembers()
      .map((m) => m.userId)
      .filter((u) => u !== this.me.user);
    if (others.length === 0) return false;
    const devices = await this.crypto.getUserDeviceInfo(others, true);
    for (const [userId, byId] of devices) {
      for (const deviceId of byId.keys()) {
        const status = await this.crypto.getDeviceVerificationStatus(userId, deviceId);
        if (status?.signedByOwner) return true;
      }
    }
    return false;
  }
}
