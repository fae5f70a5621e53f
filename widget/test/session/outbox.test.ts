import { describe, expect, it, vi } from "vitest";
import { Outbox, REPLY_KEY, txnIds, type OutboxDeps } from "../../src/app/session/outbox";
import type { MessageView } from "../../src/app/session/types";

interface Sent {
  room: string;
  type: string;
  content: Record<string, unknown>;
  txnId: string;
}

/** An outbox around a fake server: `sent` is what reached it, `shown` every status shown. */
function outbox(over: Partial<OutboxDeps> = {}) {
  const sent: Sent[] = [];
  const shown: { room: string; view: MessageView }[] = [];
  const read = new Set<string>();
  const deps: OutboxDeps = {
    ready: async () => undefined,
    send: async (room, type, content, txnId) => {
      sent.push({ room, type, content, txnId });
      return `$event-${sent.length}`;
    },
    show: (room, view) => shown.push({ room, view: { ...view } }),
    isRead: (_room, eventId) => read.has(eventId),
    nextTxn: txnIds("kpTEST"),
    ...over,
  };
  const box = new Outbox(deps);
  const statuses = (key: string) => shown.filter((s) => s.view.key === key).map((s) => s.view.status);
  return { box, sent, shown, read, statuses };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("txnIds", () => {
  it("gives every message its own ID under one prefix per page load", () => {
    const next = txnIds("kpA");
    expect([next(), next(), next()]).toEqual(["kpA.1", "kpA.2", "kpA.3"]);
    const a = txnIds()();
    const b = txnIds()();
    expect(a).toMatch(/^kp[0-9a-z]+\.1$/);
    expect(a).not.toBe(b);
  });
});

describe("Outbox", () => {
  it("sends a text message as m.room.message and shows it as sending, then sent", async () => {
    const { box, sent, shown, statuses } = outbox();
    await box.send("!case", "hallo");
    expect(sent).toEqual([{ room: "!case", type: "m.room.message", content: { msgtype: "m.text", body: "hallo" }, txnId: "kpTEST.1" }]);
    expect(statuses("kpTEST.1")).toEqual(["sending", "sent"]);
    expect(shown[0]?.view).toMatchObject({ from: "me", body: "hallo", state: "ok", name: null, prompt: null });
  });

  it("carries the structured answer when the text answers a prompt", async () => {
    const { box, sent } = outbox();
    await box.send("!case", "Voor mezelf", { prompt: "audience", option: "self" });
    expect(sent[0]?.content).toEqual({ msgtype: "m.text", body: "Voor mezelf", [REPLY_KEY]: { prompt: "audience", option: "self" } });
  });

  it("sends in the order the visitor wrote within a room, even when the first send is slow", async () => {
    const gate = deferred();
    let calls = 0;
    const { box, sent } = outbox({
      ready: async () => {
        calls += 1;
        if (calls === 1) await gate.promise;
      },
    });
    const first = box.send("!case", "een");
    const second = box.send("!case", "twee");
    await new Promise((r) => setTimeout(r, 10));
    expect(sent).toEqual([]); // nothing overtakes the first message in its room
    gate.resolve();
    await Promise.all([first, second]);
    expect(sent.map((s) => s.content.body)).toEqual(["een", "twee"]);
  });

  it("does not hold up one room's messages behind another room that is not ready yet", async () => {
    const joined = deferred();
    const { box, sent, statuses } = outbox({
      // A handover room waits for the join (up to 10 s); the case room is ready.
      ready: async (room) => {
        if (room === "!handover") await joined.promise;
      },
    });
    const h1 = box.send("!handover", "h1");
    const c1 = box.send("!case", "c1");
    const h2 = box.send("!handover", "h2");
    const c2 = box.send("!case", "c2");
    await vi.waitFor(() => expect(sent.map((s) => s.content.body)).toEqual(["c1", "c2"]));
    await Promise.all([c1, c2]);
    expect(statuses("kpTEST.1")).toEqual(["sending"]);
    joined.resolve();
    await Promise.all([h1, h2]);
    expect(sent.map((s) => [s.room, s.content.body, s.txnId])).toEqual([
      ["!case", "c1", "kpTEST.2"],
      ["!case", "c2", "kpTEST.4"],
      ["!handover", "h1", "kpTEST.1"],
      ["!handover", "h2", "kpTEST.3"],
    ]);
  });

  it("retries a failed message in its own room's order, with its transaction ID, while other rooms go on", async () => {
    let handoverUp = false;
    const gate = deferred();
    const { box, sent, statuses } = outbox({
      ready: async (room) => {
        if (room !== "!handover") return;
        if (!handoverUp) throw new Error("not joined");
        await gate.promise;
      },
    });
    await expect(box.send("!handover", "h1")).rejects.toThrow("not joined");
    handoverUp = true;
    const retried = box.retry("kpTEST.1");
    const h2 = box.send("!handover", "h2");
    const c1 = box.send("!case", "c1");
    await vi.waitFor(() => expect(sent.map((s) => s.content.body)).toEqual(["c1"]));
    await c1;
    gate.resolve();
    await Promise.all([retried, h2]);
    expect(sent.map((s) => [s.content.body, s.txnId])).toEqual([
      ["c1", "kpTEST.3"],
      ["h1", "kpTEST.1"],
      ["h2", "kpTEST.2"],
    ]);
    expect(statuses("kpTEST.1")).toEqual(["sending", "failed", "sending", "sent"]);
  });

  it("marks a message failed when the room cannot be sent to, and sends nothing", async () => {
    const { box, sent, statuses } = outbox({ ready: async () => Promise.reject(new Error("no signed recipient")) });
    await expect(box.send("!case", "lees jij dit?")).rejects.toThrow("no signed recipient");
    expect(sent).toEqual([]);
    expect(statuses("kpTEST.1")).toEqual(["sending", "failed"]);
  });

  it("sends a failed message again with the same transaction ID", async () => {
    let failing = true;
    const { box, sent, statuses } = outbox({
      send: async (room, type, content, txnId) => {
        sent.push({ room, type, content, txnId });
        if (failing) throw new Error("network");
        return "$e";
      },
    });
    await expect(box.send("!case", "hoi")).rejects.toThrow("network");
    failing = false;
    await box.retry("kpTEST.1");
    expect(sent.map((s) => s.txnId)).toEqual(["kpTEST.1", "kpTEST.1"]);
    expect(statuses("kpTEST.1")).toEqual(["sending", "failed", "sending", "sent"]);
  });

  it("does not send again what did not fail, nor an unknown key", async () => {
    const { box, sent } = outbox();
    await box.send("!case", "hoi");
    await box.retry("kpTEST.1");
    await box.retry("kpTEST.99");
    expect(sent).toHaveLength(1);
  });

  it("sends every failed message again, oldest first, when the connection is back", async () => {
    let online = false;
    const { box, sent, statuses } = outbox({
      send: async (room, type, content, txnId) => {
        if (!online) throw new Error("offline");
        sent.push({ room, type, content, txnId });
        return `$${txnId}`;
      },
    });
    await box.send("!case", "een").catch(() => undefined);
    await box.send("!case", "twee").catch(() => undefined);
    online = true;
    await box.send("!case", "drie");
    await box.resendFailed();
    expect(sent.map((s) => [s.txnId, s.content.body])).toEqual([
      ["kpTEST.3", "drie"],
      ["kpTEST.1", "een"],
      ["kpTEST.2", "twee"],
    ]);
    expect(statuses("kpTEST.1").at(-1)).toBe("sent");
    expect(statuses("kpTEST.3")).toEqual(["sending", "sent"]);
  });

  it("sends failed messages again in every room at once when the connection is back, oldest first per room", async () => {
    let online = false;
    const joined = deferred();
    const { box, sent } = outbox({
      ready: async (room) => {
        if (online && room === "!handover") await joined.promise;
      },
      send: async (room, type, content, txnId) => {
        if (!online) throw new Error("offline");
        sent.push({ room, type, content, txnId });
        return `$${txnId}`;
      },
    });
    for (const [room, body] of [["!handover", "h1"], ["!case", "c1"], ["!handover", "h2"], ["!case", "c2"]]) {
      await box.send(room as string, body as string).catch(() => undefined);
    }
    online = true;
    const resent = box.resendFailed();
    await vi.waitFor(() => expect(sent.map((s) => s.content.body)).toEqual(["c1", "c2"]));
    joined.resolve();
    await resent;
    expect(sent.map((s) => [s.content.body, s.txnId])).toEqual([
      ["c1", "kpTEST.2"],
      ["c2", "kpTEST.4"],
      ["h1", "kpTEST.1"],
      ["h2", "kpTEST.3"],
    ]);
  });

  it("shows a sent message as read once someone other than the bot read it, in that room only", async () => {
    const { box, read, statuses } = outbox();
    await box.send("!case", "een");
    await box.send("!handover", "twee");
    box.updateReadState("!case");
    expect(statuses("kpTEST.1").at(-1)).toBe("sent");
    read.add("$event-1").add("$event-2");
    box.updateReadState("!case");
    expect(statuses("kpTEST.1").at(-1)).toBe("read");
    expect(statuses("kpTEST.2").at(-1)).toBe("sent");
    box.updateReadState("!case");
    expect(statuses("kpTEST.1").filter((s) => s === "read")).toHaveLength(1);
  });

  it("checks the read state right after a send (a counsellor may have read ahead)", async () => {
    const { box, read, statuses } = outbox();
    read.add("$event-1");
    await box.send("!case", "een");
    expect(statuses("kpTEST.1")).toEqual(["sending", "sent", "read"]);
  });

  it("forgets a sent message that was redacted and names its key; other event IDs are not ours", async () => {
    const { box, read, statuses } = outbox();
    await box.send("!case", "een");
    await box.send("!case", "twee");
    expect(box.forget("$event-1")).toBe("kpTEST.1");
    expect(box.forget("$event-1")).toBeNull();
    expect(box.forget("$someone-else")).toBeNull();
    read.add("$event-1").add("$event-2");
    box.updateReadState("!case");
    expect(statuses("kpTEST.1")).toEqual(["sending", "sent"]); // never shown again
    expect(statuses("kpTEST.2")).toEqual(["sending", "sent", "read"]);
  });

  it("forgets every message on clear", async () => {
    const { box, sent } = outbox({ ready: async () => Promise.reject(new Error("x")) });
    await box.send("!case", "een").catch(() => undefined);
    box.clear();
    await box.retry("kpTEST.1");
    await box.resendFailed();
    expect(sent).toEqual([]);
  });
});

describe("Outbox with a failing send in the queue", () => {
  it("goes on with the next message after one fails", async () => {
    const send = vi.fn(async (_room: string, _type: string, content: Record<string, unknown>) => {
      if (content.body === "een") throw new Error("boom");
      return "$e";
    });
    const { box, statuses } = outbox({ send });
    await expect(box.send("!case", "een")).rejects.toThrow("boom");
    await box.send("!case", "twee");
    expect(statuses("kpTEST.2")).toEqual(["sending", "sent"]);
  });
});
