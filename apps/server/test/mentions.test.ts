import { createSmtpTransport, type EmailTemplate, renderEmail } from "@parley/core";
import { schema } from "@parley/db";
import type { SignedUp } from "@parley/testing/accounts";
import { codeOf, errorOf, must, roomWith, send, setRoomRole, signUp } from "@parley/testing/chat-fixtures";
import { deliverQueuedEmail, recordedEmailsTo } from "@parley/testing/mailbox";
import { startSmtpSink } from "@parley/testing/smtp-sink";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const WINDOW_MS = 15 * 60_000;
let now = new Date();
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ clock: () => now });
});
afterAll(() => t.close());

/** A room (public or private) with its owner and the given people as members. */
async function roomOf(isPrivate: boolean, ...people: SignedUp[]) {
  const { owner, room } = await roomWith(t, isPrivate);
  for (const person of people) await setRoomRole(t, room.id, person.user.id, "member");
  return { owner, room };
}

async function mentionEmailsTo(address: string) {
  return (await recordedEmailsTo(t, address)).filter((email) => email.subject.includes("mention"));
}

async function storedMention(messageId: string) {
  const [row] = await t.server.deps.db
    .select({ mentions: schema.messages.mentions, mentionsRoom: schema.messages.mentionsRoom })
    .from(schema.messages)
    .where(eq(schema.messages.id, messageId));
  return row;
}

describe("handles", () => {
  it("sign-up derives a readable handle from the display name, numbered when it is taken, and auth.me shows it", async () => {
    const first = await signUp(t, "Zoë Ann-Lee");
    const second = await signUp(t, "Zoë Ann-Lee");
    expect(first.user.handle).toMatch(/^zoe_annlee\d*$/);
    expect(second.user.handle).toMatch(/^zoe_annlee\d+$/);
    expect(second.user.handle).not.toBe(first.user.handle);
    expect(await first.api.auth.me.query()).toMatchObject({ handle: first.user.handle });
  });

  it("concurrent sign-ups with one display name all get distinct handles (the unique index decides)", async () => {
    const name = `Racer ${Date.now().toString(36)}`;
    const people = await Promise.all(Array.from({ length: 24 }, () => signUp(t, name)));
    const handles = people.map((p) => p.user.handle);
    expect(new Set(handles).size).toBe(people.length);
  });

  it("changeHandle folds case, refuses bad and reserved handles, and a taken one is CONFLICT on handle", async () => {
    const ann = await signUp(t, "Ann");
    const bob = await signUp(t, "Bob");
    const wanted = `Ann_${Date.now().toString(36)}`;
    expect(await ann.api.auth.changeHandle.mutate({ handle: `@${wanted}` })).toEqual({
      handle: wanted.toLowerCase(),
    });
    expect(await ann.api.auth.preferences.query()).toEqual({
      handle: wanted.toLowerCase(),
      mentionEmails: true,
    });
    for (const bad of ["a", "room", "has space", "x".repeat(25)]) {
      expect(await codeOf(bob.api.auth.changeHandle.mutate({ handle: bad }))).toBe("BAD_REQUEST");
    }
    const taken = await errorOf(bob.api.auth.changeHandle.mutate({ handle: wanted.toUpperCase() }));
    expect(taken.data?.code).toBe("CONFLICT");
    expect(taken.data?.zodError?.fieldErrors).toEqual({ handle: [expect.any(String)] });
    expect(await bob.api.auth.me.query()).toMatchObject({ handle: bob.user.handle });
  });

  it("room members carry their handle, for a client's autocomplete", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    const members = await owner.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ userId: bob.user.id, handle: bob.user.handle })]),
    );
  });
});

describe("resolving mentions on send", () => {
  it("stores the ids of the room members the text names (case-insensitive), keeps the text, and leaves other @words as text", async () => {
    const bob = await signUp(t, "Bob");
    const carol = await signUp(t, "Carol");
    const { owner, room } = await roomOf(false, bob);
    const text = `Hi @${bob.user.handle.toUpperCase()}, @${bob.user.handle} again, @${carol.user.handle} (not here), @nobody_zzq, mail x@${bob.user.handle}.com, me @${owner.user.handle}`;
    const message = await send(owner.api, room.id, text);
    expect(message).toMatchObject({ content: text, mentions: [bob.user.id], mentionsRoom: false });
    expect(await storedMention(message.id)).toEqual({ mentions: [bob.user.id], mentionsRoom: false });
    const [listed] = (await bob.api.chat.messages.list.query({ roomId: room.id, limit: 1 })).items;
    expect(listed).toMatchObject({ id: message.id, content: text, mentions: [bob.user.id] });
    expect((await carol.api.chat.mentions.unreadCount.query()).count).toBe(0);
  });

  it("@room from a plain member stays text; from a moderator it reaches every member but the sender", async () => {
    const bob = await signUp(t, "Bob");
    const carol = await signUp(t, "Carol");
    const mod = await signUp(t, "Mod");
    const { owner, room } = await roomOf(false, bob, carol);
    await setRoomRole(t, room.id, mod.user.id, "moderator");
    const plain = await send(bob.api, room.id, "hey @room look");
    expect(plain).toMatchObject({ mentions: [], mentionsRoom: false });
    expect((await carol.api.chat.mentions.unreadCount.query()).count).toBe(0);

    const loud = await send(mod.api, room.id, "@ROOM standup now");
    expect(loud).toMatchObject({ content: "@ROOM standup now", mentionsRoom: true });
    for (const person of [owner, bob, carol]) {
      const inbox = await person.api.chat.mentions.list.query();
      expect(inbox.items.map((item) => item.message.id)).toEqual([loud.id]);
      expect((await person.api.chat.mentions.unreadCount.query()).count).toBe(1);
    }
    expect((await mod.api.chat.mentions.unreadCount.query()).count).toBe(0);
  });
});

describe("the mentions inbox", () => {
  it("lists mentions newest first with room name and message, pages by cursor, counts unread, marks one or all read", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    const sent = [];
    for (let i = 0; i < 3; i++) {
      advance(1000);
      sent.push(await send(owner.api, room.id, `ping ${i} @${bob.user.handle}`));
    }
    const first = await bob.api.chat.mentions.list.query({ limit: 2 });
    expect(first.items.map((item) => item.message.id)).toEqual([sent[2]?.id, sent[1]?.id]);
    expect(first.items[0]).toMatchObject({
      roomName: room.name,
      read: false,
      message: { content: `ping 2 @${bob.user.handle}` },
    });
    const second = await bob.api.chat.mentions.list.query({
      limit: 2,
      cursor: first.nextCursor ?? undefined,
    });
    expect(second.items.map((item) => item.message.id)).toEqual([sent[0]?.id]);
    expect(second.nextCursor).toBeNull();
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(3);

    expect(await bob.api.chat.mentions.markRead.mutate({ messageId: sent[1]?.id })).toEqual({ marked: 1 });
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(2);
    const unread = await bob.api.chat.mentions.list.query({ unreadOnly: true });
    expect(unread.items.map((item) => item.message.id)).toEqual([sent[2]?.id, sent[0]?.id]);
    expect(await bob.api.chat.mentions.markRead.mutate({})).toEqual({ marked: 2 });
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(0);
    expect((await bob.api.chat.mentions.list.query()).items.every((item) => item.read)).toBe(true);
  });

  it("an ex-member of a private room, or an outsider, never sees its mentions in the inbox or the count", async () => {
    const bob = await signUp(t, "Bob");
    const outsider = await signUp(t, "Outsider");
    const { owner, room } = await roomOf(true, bob);
    const message = await send(
      owner.api,
      room.id,
      `secret plan @${bob.user.handle} @${outsider.user.handle}`,
    );
    expect(message.mentions).toEqual([bob.user.id]);
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(1);
    expect((await outsider.api.chat.mentions.list.query()).items).toEqual([]);
    expect(await codeOf(outsider.api.chat.mentions.markRead.mutate({ messageId: message.id }))).toBe(
      "NOT_FOUND",
    );

    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id });
    expect((await bob.api.chat.mentions.list.query()).items).toEqual([]);
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(0);
    expect(await codeOf(bob.api.chat.mentions.markRead.mutate({ messageId: message.id }))).toBe("NOT_FOUND");
  });

  it("a deleted message's mention leaves the inbox and the count", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    const message = await send(owner.api, room.id, `oops @${bob.user.handle}`);
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(1);
    await owner.api.chat.messages.delete.mutate({ messageId: message.id });
    expect((await bob.api.chat.mentions.list.query()).items).toEqual([]);
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(0);
  });
});

describe("mention emails", () => {
  it("three mentions of an offline user within a minute give exactly one email, listing all three, one window later", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    for (const word of ["alpha", "bravo", "charlie"]) {
      await send(owner.api, room.id, `${word} @${bob.user.handle}`);
      advance(20_000);
    }
    await deliverQueuedEmail(t);
    expect(await mentionEmailsTo(bob.email)).toEqual([]);
    advance(WINDOW_MS);
    await deliverQueuedEmail(t);
    const emails = await mentionEmailsTo(bob.email);
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toContain("3 new mentions");
    for (const word of ["alpha", "bravo", "charlie"]) expect(emails[0]?.text).toContain(word);
    expect(emails[0]?.text).toMatch(/\/unsubscribe\/mentions\?token=/);

    // The next mention opens the next digest, one window after it.
    await send(owner.api, room.id, `delta @${bob.user.handle}`);
    await deliverQueuedEmail(t);
    expect(await mentionEmailsTo(bob.email)).toHaveLength(1);
    advance(WINDOW_MS);
    await deliverQueuedEmail(t);
    expect(await mentionEmailsTo(bob.email)).toHaveLength(2);
  });

  it("a user who turned mention emails off gets none", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    expect(await bob.api.auth.setMentionEmails.mutate({ enabled: false })).toEqual({ mentionEmails: false });
    await send(owner.api, room.id, `hello @${bob.user.handle}`);
    advance(WINDOW_MS + 1000);
    await deliverQueuedEmail(t);
    expect(await mentionEmailsTo(bob.email)).toEqual([]);
    expect((await bob.api.chat.mentions.unreadCount.query()).count).toBe(1);
  });

  it("the unsubscribe link's GET only asks to confirm (a mail scanner following it changes nothing); its form's POST turns mention emails off; a forged token gets a 400 page either way", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    await send(owner.api, room.id, `first @${bob.user.handle}`);
    advance(WINDOW_MS + 1000);
    await deliverQueuedEmail(t);
    const [email] = await mentionEmailsTo(bob.email);
    const match = /\/unsubscribe\/mentions\?token=(\S+)/.exec(email?.text ?? "");
    const token = match?.[1] ?? "";
    expect(token).not.toBe("");
    const link = `${t.url}/unsubscribe/mentions?token=${encodeURIComponent(token)}`;

    const forged = `${token.split(".")[0]}.${"A".repeat(43)}`;
    const forgedLink = `${t.url}/unsubscribe/mentions?token=${encodeURIComponent(forged)}`;
    for (const method of ["GET", "POST"]) {
      const refused = await fetch(forgedLink, { method });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain("not valid");
    }
    expect(await bob.api.auth.preferences.query()).toMatchObject({ mentionEmails: true });

    // What a scanner does: GET (and HEAD) the link, twice. Nothing changes.
    for (const method of ["GET", "HEAD", "GET"]) expect((await fetch(link, { method })).status).toBe(200);
    const confirm = await fetch(link);
    expect(confirm.headers.get("content-type")).toContain("text/html");
    const html = await confirm.text();
    expect(html).toContain("Turn off mention emails?");
    const form = /<form method="post" action="([^"]+)">/.exec(html);
    expect(form?.[1]).toBe(`/unsubscribe/mentions?token=${encodeURIComponent(token)}`);
    expect(await bob.api.auth.preferences.query()).toMatchObject({ mentionEmails: true });

    // The form, as a browser posts it: same origin, urlencoded, an empty body.
    const posted = await fetch(`${t.url}${form?.[1] ?? ""}`, {
      method: "POST",
      headers: { origin: t.url, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(posted.status).toBe(200);
    expect(await posted.text()).toContain("Mention emails turned off");
    expect(await bob.api.auth.preferences.query()).toMatchObject({ mentionEmails: false });

    await send(owner.api, room.id, `second @${bob.user.handle}`);
    advance(WINDOW_MS + 1000);
    await deliverQueuedEmail(t);
    expect(await mentionEmailsTo(bob.email)).toHaveLength(1);
  });

  it("the mention email carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) over SMTP; the one-click POST works without Origin, form or cookie, and the Origin check lets only this route through", async () => {
    const bob = await signUp(t, "Bob");
    const { owner, room } = await roomOf(false, bob);
    await send(owner.api, room.id, `hi @${bob.user.handle}`);
    advance(WINDOW_MS + 1000);
    await deliverQueuedEmail(t);
    const [job] = await t.server.deps.db
      .select({
        id: schema.emailOutbox.id,
        template: schema.emailOutbox.template,
        data: schema.emailOutbox.data,
      })
      .from(schema.emailOutbox)
      .where(
        and(eq(schema.emailOutbox.toAddress, bob.email), eq(schema.emailOutbox.template, "mention-digest")),
      );
    // The stored job rendered and sent as the worker does, to a real SMTP server, to read the headers on the wire.
    const rendered = renderEmail({ template: "mention-digest", data: must(job).data } as EmailTemplate, {
      publicOrigin: t.url,
    });
    const sink = await startSmtpSink();
    const transport = createSmtpTransport(sink.url, { timeoutMs: 5000 });
    try {
      await transport.send(
        { ...rendered, jobId: must(job).id, from: "parley@example.test", to: bob.email },
        { signal: AbortSignal.timeout(5000) },
      );
      await sink.acceptedAtLeast(1);
    } finally {
      transport.close();
      await sink.close();
    }
    const raw = must(sink.accepted()[0]).raw.replace(/\r\n[ \t]+/g, " ");
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const header = /^List-Unsubscribe: <([^>]+)>\r?$/m.exec(raw);
    const url = new URL(must(header?.[1]));
    expect(url.pathname).toBe("/unsubscribe/mentions");

    // Exactly what a mail provider sends: no Origin, no cookie, the one-click body.
    const foreign = {
      origin: "https://mail.example.net",
      "content-type": "application/x-www-form-urlencoded",
    };
    const oneClick = await fetch(`${t.url}${url.pathname}${url.search}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);
    expect(await bob.api.auth.preferences.query()).toMatchObject({ mentionEmails: false });
    // A foreign Origin with the user's session cookie changes nothing here: the token decides...
    await bob.api.auth.setMentionEmails.mutate({ enabled: true });
    const crossSite = await fetch(`${t.url}${url.pathname}${url.search}`, {
      method: "POST",
      headers: { ...foreign, cookie: `parley_session=${bob.token}` },
      body: "List-Unsubscribe=One-Click",
    });
    expect(crossSite.status).toBe(200);
    expect(await bob.api.auth.preferences.query()).toMatchObject({ mentionEmails: false });
    // ...and only here: the same request to any other path is still refused by the Origin check.
    for (const path of ["/unsubscribe/mentions/x", "/unsubscribe", "/trpc/auth.setMentionEmails"]) {
      const refused = await fetch(`${t.url}${path}${url.search}`, {
        method: "POST",
        headers: { ...foreign, cookie: `parley_session=${bob.token}` },
        body: "List-Unsubscribe=One-Click",
      });
      expect([path, refused.status]).toEqual([path, 403]);
    }
  });
});
