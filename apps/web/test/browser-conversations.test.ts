import { GOOD_PASSWORD, type SignedUp, signUpAt } from "@parley/testing/accounts";
import type { BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { formatCounts, runAxe } from "./support/axe.ts";
import {
  expectNoSidewaysScroll,
  newPerson,
  PHONE,
  pageErrorsOf,
  screenshot,
  serverAndBrowserForFile,
  signIn,
} from "./support/browser.ts";

const t = serverAndBrowserForFile();

const sidebar = (page: Page) => page.getByRole("navigation", { name: "Rooms and direct messages" });
const heading = (page: Page, name: string) =>
  page.getByRole("heading", { level: 1, name, exact: true }).waitFor();
const timeline = (page: Page) => page.locator("[role=log]");
const threadPane = (page: Page) => page.getByRole("region", { name: "Thread" });
const live = (page: Page) =>
  page.locator("header [role=status].connection").filter({ hasText: "Live" }).waitFor();

async function expectNoAxeViolations(page: Page, where: string) {
  const report = await runAxe(page);
  expect(report.violations, `${where}: ${formatCounts(report)}`).toEqual([]);
}

async function signedIn(user: SignedUp, device?: BrowserContextOptions): Promise<Page> {
  const page = await newPerson(t.browser, device);
  await signIn(page, t.server.url, user.email, GOOD_PASSWORD);
  return page;
}

/** Two people who share a room: the one place the DM picker finds people. */
async function twoWhoMet() {
  const ada = await signUpAt(t.server.url, "Ada");
  const bob = await signUpAt(t.server.url, "Bob");
  const lobby = await ada.api.chat.rooms.create.mutate({ name: "Lobby", isPrivate: false });
  await bob.api.chat.rooms.join.mutate({ roomId: lobby.id });
  return { ada, bob, bobHandle: (await bob.api.auth.preferences.query()).handle };
}

describe("direct messages, threads and mentions in the web app", () => {
  it("two people open a DM and talk, reply in a thread, and one mentions the other, who finds it in the inbox", async () => {
    const { ada, bob, bobHandle } = await twoWhoMet();

    // Ada opens a DM with Bob, found by his handle among the people of her rooms.
    const adaPage = await signedIn(ada);
    await sidebar(adaPage).getByText("No direct messages yet.").waitFor();
    await sidebar(adaPage).getByRole("link", { name: "New direct message" }).click();
    await heading(adaPage, "New direct message");
    await adaPage.getByLabel("Find by name or @handle").fill(`@${bobHandle}`);
    await adaPage.getByRole("checkbox", { name: /Bob/ }).check();
    await adaPage.getByRole("button", { name: "Open conversation" }).click();
    await heading(adaPage, "Bob");
    await live(adaPage);
    // A conversation is no room: nothing to administer.
    expect(await adaPage.getByRole("main").getByRole("link", { name: "Room settings" }).count()).toBe(0);
    const adaBox = adaPage.getByRole("textbox", { name: "Message" });
    await adaBox.fill("Hello Bob, a word in private");
    await adaBox.press("Enter");
    await timeline(adaPage).getByText("Hello Bob, a word in private").waitFor();
    expect(
      await sidebar(adaPage).getByRole("link", { name: "Bob", exact: true }).getAttribute("aria-current"),
    ).toBe("page");

    // Bob finds it in his sidebar, unread, and answers.
    const bobPage = await signedIn(bob);
    await sidebar(bobPage)
      .getByRole("link", { name: /^Ada ?1 unread$/ })
      .click();
    await heading(bobPage, "Ada");
    await live(bobPage);
    await timeline(bobPage).getByText("Hello Bob, a word in private").waitFor();
    await expectNoAxeViolations(bobPage, "the DM view");
    const bobBox = bobPage.getByRole("textbox", { name: "Message" });
    await bobBox.fill("Hi Ada, go ahead");
    await bobBox.press("Enter");
    await timeline(adaPage).getByText("Hi Ada, go ahead").waitFor();

    // Ada replies in a thread under Bob's message: the reply stays out of the main timeline,
    // which shows the count under the root; replying follows the thread.
    await adaPage.getByRole("button", { name: "Reply in thread to Bob's message" }).click();
    const adaPane = threadPane(adaPage);
    await adaPane.getByText("No replies yet.").waitFor();
    await adaPane.getByRole("textbox", { name: "Reply" }).fill("Threaded answer");
    await adaPane.getByRole("button", { name: "Reply", exact: true }).click();
    await adaPane.getByText("Threaded answer").waitFor();
    await adaPane.getByRole("button", { name: "Follow thread", pressed: true }).waitFor();
    await timeline(adaPage).getByRole("button", { name: "1 reply to Bob's message" }).waitFor();
    expect(await timeline(adaPage).getByText("Threaded answer").count()).toBe(0);

    // Bob, the root's author, follows the thread: the count arrives live with one new reply;
    // opening the thread reads it. He can unfollow and follow again from the pane.
    const summary = timeline(bobPage).locator(".thread-summary");
    await summary.getByText("1 new reply").waitFor();
    await summary.getByRole("button", { name: "1 reply to Bob's message" }).click();
    const bobPane = threadPane(bobPage);
    await bobPane.getByText("Threaded answer").waitFor();
    await summary.getByText("1 new reply").waitFor({ state: "detached" });
    await bobPane.getByRole("button", { name: "Follow thread", pressed: true }).click();
    await bobPane.getByRole("button", { name: "Follow thread", pressed: false }).click();
    await bobPane.getByRole("button", { name: "Follow thread", pressed: true }).waitFor();
    await expectNoAxeViolations(bobPage, "the open thread pane");
    await bobPane.getByRole("textbox", { name: "Reply" }).fill("Agreed, in the thread");
    await bobPane.getByRole("button", { name: "Reply", exact: true }).click();
    await adaPane.getByText("Agreed, in the thread").waitFor();
    await adaPane.getByText("2 replies").waitFor();
    await timeline(adaPage).getByRole("button", { name: "2 replies to Bob's message" }).waitFor();

    // Ada mentions Bob with the @-autocomplete, driven by the keyboard, and types on at a fast
    // typist's pace. On a busy page animation frames come late (here 100 ms): the caret after the
    // inserted handle must not wait for one, or it lands between the keys typed meanwhile and the
    // next ones, out of order (a CI run of 2026-12-02 waited 20 s here for the message as typed).
    await adaPage.evaluate(() => {
      const frame = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (callback) => frame(() => setTimeout(() => frame(callback), 100));
    });
    await adaBox.click();
    await adaBox.pressSequentially(`Look here @${bobHandle.slice(0, 2)}`);
    const list = adaPage.getByRole("listbox", { name: "People to mention" });
    const option = list.getByRole("option", { name: new RegExp(`^@${bobHandle} Bob$`) });
    await option.waitFor();
    expect(await option.getAttribute("aria-selected")).toBe("true");
    expect(await adaBox.getAttribute("aria-activedescendant")).toBe(await option.getAttribute("id"));
    expect(await list.getByRole("option").count()).toBe(1); // never the writer herself
    await adaBox.press("Enter");
    await list.waitFor({ state: "detached" });
    expect(await adaBox.inputValue()).toBe(`Look here @${bobHandle} `);
    await adaBox.pressSequentially("please", { delay: 60 });
    await adaBox.press("Enter");
    const mentionText = `Look here @${bobHandle} please`;
    await timeline(adaPage).getByText(mentionText).waitFor();

    // Bob's mentions badge counts it (his open DM hears the event); the inbox lists it.
    const mentionsLink = sidebar(bobPage).getByRole("link", { name: /^Mentions ?@1 mention$/ });
    await mentionsLink.waitFor();
    await screenshot(bobPage, "conversations-dm-thread");
    await mentionsLink.click();
    await heading(bobPage, "Mentions");
    await bobPage.getByRole("main").getByText(mentionText).waitFor();
    await bobPage.getByRole("status").filter({ hasText: "1 unread." }).waitFor();
    await expectNoAxeViolations(bobPage, "the mentions inbox");
    expect([...pageErrorsOf(adaPage), ...pageErrorsOf(bobPage)]).toEqual([]);
  });

  it("on a phone, a DM's thread takes the whole screen with its replies and a reply box", async () => {
    const { ada, bob } = await twoWhoMet();
    const dm = await ada.api.chat.dms.open.mutate({ userIds: [bob.user.id] });
    const root = await ada.api.chat.messages.send.mutate({
      roomId: dm.id,
      content: "Lunch on Friday?",
      clientMessageId: "phone-root",
    });
    await bob.api.chat.messages.send.mutate({
      roomId: dm.id,
      content: "Friday works",
      clientMessageId: "phone-reply",
      parentId: root.id,
    });

    const page = await signedIn(bob, PHONE);
    await page.goto(`${t.server.url}/rooms/${dm.id}`);
    await heading(page, "Ada");
    await page.getByRole("button", { name: "1 reply to Ada's message" }).click();
    const pane = threadPane(page);
    await pane.getByText("Friday works").waitFor();
    expect(await pane.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 844 });
    await pane.getByRole("textbox", { name: "Reply" }).waitFor();
    await pane.getByRole("button", { name: "Back to the room" }).waitFor();
    await expectNoSidewaysScroll(page);
    await expectNoAxeViolations(page, "the thread pane on a phone");
    await screenshot(page, "conversations-phone-thread");
    await pane.getByRole("button", { name: "Back to the room" }).click();
    await pane.waitFor({ state: "detached" });
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
