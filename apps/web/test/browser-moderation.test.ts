import { createdAdminAt, GOOD_PASSWORD, signUpAt } from "@parley/testing/accounts";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { formatCounts, runAxe } from "./support/axe.ts";
import { newPerson, pageErrorsOf, serverAndBrowserForFile, signIn } from "./support/browser.ts";

const t = serverAndBrowserForFile();

const heading = (page: Page, name: string | RegExp) =>
  page.getByRole("heading", { level: 1, name }).waitFor();

async function expectNoAxeViolations(page: Page, where: string) {
  const report = await runAxe(page);
  expect(report.violations, `${where}: ${formatCounts(report)}`).toEqual([]);
}

describe("moderation in the web app", () => {
  it("a member reports a message; the owner promotes, mutes and blocks a word in room settings and dismisses the report; an admin sees the queue", async () => {
    const owner = await signUpAt(t.server.url, "Ada");
    const member = await signUpAt(t.server.url, "Brendan");
    const troll = await signUpAt(t.server.url, "Troll");
    const admin = await createdAdminAt(t.server);
    const room = await owner.api.chat.rooms.create.mutate({ name: "Engines", isPrivate: false });
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    await troll.api.chat.rooms.join.mutate({ roomId: room.id });
    await troll.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "buy my stuff",
      clientMessageId: "t1",
    });

    // The member reports the troll's message from the room.
    const memberPage = await newPerson(t.browser);
    await signIn(memberPage, t.server.url, member.email, GOOD_PASSWORD);
    await memberPage.goto(`${t.server.url}/rooms/${room.id}`);
    await memberPage.getByText("buy my stuff").waitFor();
    await memberPage.getByRole("button", { name: /^Report/ }).click();
    await memberPage.getByLabel("Why?").fill("Spam");
    await memberPage.getByRole("button", { name: "Send report" }).click();
    await memberPage.getByRole("status").filter({ hasText: "Reported" }).waitFor();

    // The owner's settings page: promote the member, mute the troll for an hour, block a word.
    const ownerPage = await newPerson(t.browser);
    await signIn(ownerPage, t.server.url, owner.email, GOOD_PASSWORD);
    await ownerPage.goto(`${t.server.url}/rooms/${room.id}/settings`);
    await heading(ownerPage, "Engines: settings");
    await ownerPage.getByRole("cell", { name: "Brendan", exact: true }).waitFor();
    await expectNoAxeViolations(ownerPage, "room settings");
    await ownerPage.getByRole("button", { name: /Make moderator.*Brendan/ }).click();
    await ownerPage.getByRole("button", { name: /Demote.*Brendan/ }).waitFor();
    await ownerPage.getByLabel("Member", { exact: true }).selectOption({ label: "Troll" });
    await ownerPage.getByRole("button", { name: "Apply" }).click();
    await ownerPage.getByText(/Troll: muted until/).waitFor();
    await ownerPage.getByLabel("Word or phrase").fill("Spam");
    await ownerPage.getByRole("button", { name: "Block" }).click();
    await ownerPage.getByRole("button", { name: /Remove.*spam/ }).waitFor();
    await expectNoAxeViolations(ownerPage, "room settings, filled");

    const members = await owner.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items.find((m) => m.userId === member.user.id)?.role).toBe("moderator");
    expect(
      (
        await troll.api.chat.messages.send
          .mutate({ roomId: room.id, content: "hi", clientMessageId: "t2" })
          .catch((e) => e)
      ).data?.code,
    ).toBe("FORBIDDEN");

    // The owner works the room's queue.
    await ownerPage.getByRole("link", { name: "This room's reports" }).click();
    await heading(ownerPage, "Reports");
    await ownerPage.getByRole("cell", { name: "Spam", exact: true }).waitFor();
    await expectNoAxeViolations(ownerPage, "room reports");
    await ownerPage.getByRole("button", { name: /^Dismiss/ }).click();
    await ownerPage.getByText("No reports here.").waitFor();

    // An admin finds every room's queue under the admin nav.
    await troll.api.chat.moderation.report.mutate({
      messageId: (
        await owner.api.chat.messages.send.mutate({
          roomId: room.id,
          content: "hello",
          clientMessageId: "o1",
        })
      ).id,
      reason: "Rude",
    });
    const adminPage = await newPerson(t.browser);
    await signIn(adminPage, t.server.url, admin.email, GOOD_PASSWORD);
    await adminPage.goto(`${t.server.url}/admin/submissions`);
    await adminPage.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Reports" }).click();
    await heading(adminPage, "Reports");
    await adminPage.getByRole("cell", { name: "Rude", exact: true }).waitFor();
    await expectNoAxeViolations(adminPage, "admin reports");

    for (const page of [memberPage, ownerPage, adminPage]) expect(pageErrorsOf(page)).toEqual([]);
  });
});
