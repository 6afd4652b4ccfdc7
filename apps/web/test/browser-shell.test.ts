import { GOOD_PASSWORD, type SignedUp, signUpAt } from "@parley/testing/accounts";
import type { BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
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

let sent = 0;
const send = (who: SignedUp, roomId: string, content: string) =>
  who.api.chat.messages.send.mutate({ roomId, content, clientMessageId: `shell-${++sent}` });

async function openRoom(user: SignedUp, roomId: string, device?: BrowserContextOptions): Promise<Page> {
  const page = await newPerson(t.browser, device);
  await signIn(page, t.server.url, user.email, GOOD_PASSWORD);
  await page.goto(`${t.server.url}/rooms/${roomId}`);
  await page.locator("header [role=status].connection").filter({ hasText: "Live" }).waitFor();
  return page;
}

/** The accessible name (or id) of whatever has focus. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const element = document.activeElement;
    return element?.getAttribute("aria-label") || element?.id || element?.textContent || null;
  });

const sidebar = (page: Page) => page.getByRole("navigation", { name: "Rooms and direct messages" });

describe("the chat shell", () => {
  it("groups messages by day and by author within 5 minutes, with the edited and deleted markers", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const room = await ada.api.chat.rooms.create.mutate({ name: "Grouping", isPrivate: false });
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await send(ada, room.id, "one");
    const edited = await send(ada, room.id, "two");
    await send(bob, room.id, "three");
    const deleted = await send(bob, room.id, "four");
    await send(ada, room.id, "five");
    await ada.api.chat.messages.edit.mutate({ messageId: edited.id, content: "two, edited" });
    await bob.api.chat.messages.delete.mutate({ messageId: deleted.id });

    const page = await openRoom(ada, room.id);
    const messages = page.locator("[role=log] .message");
    await expect.poll(() => messages.count()).toBe(5);
    // Three headers: Ada (one, two), Bob (three, deleted), Ada (five).
    const starts = page.locator("[role=log] .message.group-start");
    expect(
      await starts.evaluateAll((items) => items.map((item) => item.getAttribute("data-author"))),
    ).toEqual(["Ada", "Bob", "Ada"]);
    // A continued message has no visible header, but keeps one for screen readers.
    const continued = page.locator("[role=log] .message.group-continued");
    expect(await continued.count()).toBe(2);
    for (const meta of await continued.locator(".message-meta").all()) {
      expect(await meta.getAttribute("class")).toContain("visually-hidden");
    }
    expect(await continued.first().textContent()).toContain("(edited)");
    await continued.nth(1).getByText("Message deleted").waitFor();
    expect(await page.locator("[role=log] h2.day-separator").allTextContents()).toEqual(["Today"]);

    // A day later, the same messages are yesterday's (the browser's clock moved, not the server's).
    const tomorrow = await newPerson(t.browser);
    await tomorrow.clock.setFixedTime(new Date(Date.now() + 24 * 60 * 60 * 1000));
    await signIn(tomorrow, t.server.url, ada.email, GOOD_PASSWORD);
    await tomorrow.goto(`${t.server.url}/rooms/${room.id}`);
    await tomorrow.locator("[role=log] h2.day-separator").getByText("Yesterday").waitFor();
    await screenshot(page, "shell-grouping");
    expect([...pageErrorsOf(page), ...pageErrorsOf(tomorrow)]).toEqual([]);
  });

  it("has an emoji picker for the composer and for reactions, searchable and driven by the keyboard", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const room = await ada.api.chat.rooms.create.mutate({ name: "Emoji", isPrivate: false });
    await send(ada, room.id, "launch day");
    const page = await openRoom(ada, room.id);
    const trigger = page.getByRole("button", { name: "Insert an emoji" });
    const dialog = page.getByRole("dialog", { name: "Insert an emoji" });
    const box = page.getByRole("textbox", { name: "Message" });

    await box.fill("Ship it ");
    await trigger.click();
    expect(await trigger.getAttribute("aria-expanded")).toBe("true");
    expect(await focused(page)).toContain("search");
    await page.keyboard.type("tada");
    await expect.poll(() => dialog.getByRole("status").textContent()).toBe("1 emoji");
    await page.keyboard.press("ArrowDown");
    expect(await focused(page)).toBe("party popper");
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached" });
    expect(await box.inputValue()).toBe("Ship it 🎉");
    expect(await focused(page)).toBe("composer-text");
    // In the middle of the text, the caret follows the emoji: what is typed next goes after it.
    await box.fill("Ship now");
    await box.press("Home");
    for (let i = 0; i < "Ship ".length; i++) await box.press("ArrowRight");
    await trigger.click();
    await page.keyboard.type("tada");
    await expect.poll(() => dialog.getByRole("status").textContent()).toBe("1 emoji");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached" });
    await page.keyboard.type(" it ");
    expect(await box.inputValue()).toBe("Ship 🎉 it now");

    // Arrows move through the grid (a row is 8 wide), Home and End to its ends; one Tab stop.
    await trigger.click();
    await page.keyboard.press("ArrowDown");
    expect(await focused(page)).toBe("thumbs up");
    await page.keyboard.press("ArrowRight");
    expect(await focused(page)).toBe("thumbs down");
    await page.keyboard.press("ArrowDown");
    expect(await focused(page)).toBe("cross mark");
    await page.keyboard.press("End");
    expect(await focused(page)).toBe("seedling");
    expect(await dialog.locator("button[tabindex='0']").count()).toBe(1);
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowUp");
    expect(await focused(page)).toContain("search");
    await page.keyboard.type("no such emoji");
    await expect.poll(() => dialog.getByRole("status").textContent()).toBe("No emoji match “no such emoji”");
    // Escape closes it and gives focus back to its button.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await focused(page)).toBe("Insert an emoji");
    expect(await trigger.getAttribute("aria-expanded")).toBe("false");

    // The same picker adds a reaction beyond the quick five.
    const message = page.locator("[role=log] .message").last();
    await message.locator(".react-picker summary").click();
    await message.getByRole("button", { name: "More reactions" }).click();
    await page.getByRole("dialog", { name: "More reactions" }).getByLabel("Search emoji").fill("rocket");
    await page.keyboard.press("Enter");
    await message.getByRole("button", { name: "🚀 1, including you" }).waitFor();
    await screenshot(page, "shell-emoji");
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("lists the rooms one is in with unread counts beside the timeline, and opens a thread pane on the right", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const here = await ada.api.chat.rooms.create.mutate({ name: "Here", isPrivate: false });
    const elsewhere = await ada.api.chat.rooms.create.mutate({ name: "Elsewhere", isPrivate: false });
    await ada.api.chat.rooms.create.mutate({ name: "Not joined", isPrivate: false });
    for (const room of [here, elsewhere]) await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await send(ada, here.id, "Which release is it?");
    await send(ada, elsewhere.id, "unread one");
    await send(ada, elsewhere.id, "unread two");

    const page = await newPerson(t.browser);
    await signIn(page, t.server.url, bob.email, GOOD_PASSWORD);
    // Here is read once its newest message has been on screen: its badge stays away after.
    const hereRead = page.waitForResponse((response) => response.url().includes("chat.rooms.markRead"));
    await page.goto(`${t.server.url}/rooms/${here.id}`);
    await hereRead;
    const nav = sidebar(page);
    await nav.getByRole("link", { name: /^Elsewhere ?2 unread$/ }).waitFor();
    expect(await nav.getByRole("link", { name: "Here", exact: true }).getAttribute("aria-current")).toBe(
      "page",
    );
    expect(await nav.getByRole("link", { name: "Not joined" }).count()).toBe(0);
    await nav.getByRole("heading", { name: "Direct messages" }).waitFor();
    await nav.getByText("No direct messages yet.").waitFor();
    await page.getByRole("main").getByRole("link", { name: "Room settings" }).waitFor();

    const reply = page.getByRole("button", { name: "Reply in thread to Ada's message" });
    await reply.click();
    const pane = page.getByRole("region", { name: "Thread" });
    await pane.getByText("Which release is it?").waitFor();
    expect(await focused(page)).toBe("thread-heading");
    const [paneBox, timelineBox] = [await pane.boundingBox(), await page.locator(".timeline").boundingBox()];
    expect(paneBox && timelineBox && paneBox.x >= timelineBox.x + timelineBox.width).toBe(true);
    await pane.getByRole("textbox", { name: "Reply" }).waitFor();
    await screenshot(page, "shell-desktop-thread");
    await pane.getByRole("button", { name: "Close thread" }).click();
    await pane.waitFor({ state: "detached" });
    expect(await focused(page)).toContain("Reply in thread");

    // Reading the other room clears its badge in the sidebar, for good once its marker moved.
    const markedRead = page.waitForResponse((response) => response.url().includes("chat.rooms.markRead"));
    await nav.getByRole("link", { name: /Elsewhere/ }).click();
    await page.getByRole("heading", { level: 1, name: "Elsewhere" }).waitFor();
    await markedRead;
    await nav.getByRole("link", { name: "Here", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Here" }).waitFor();
    await expect.poll(() => nav.getByRole("link", { name: "Elsewhere", exact: true }).count()).toBe(1);
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("on a phone, makes the sidebar a drawer and the thread pane full screen with a back button", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const first = await ada.api.chat.rooms.create.mutate({ name: "Pocket one", isPrivate: false });
    const second = await ada.api.chat.rooms.create.mutate({ name: "Pocket two", isPrivate: false });
    await send(ada, first.id, "hello from the first room");
    await send(ada, second.id, "hello from the second room");
    const page = await openRoom(ada, first.id, PHONE);
    const nav = sidebar(page);
    const menu = page.getByRole("button", { name: "Menu", exact: true });

    expect(await nav.isVisible()).toBe(false);
    await menu.click();
    await nav.waitFor({ state: "visible" });
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    expect(await focused(page)).toBe("Close menu");
    const drawer = await nav.boundingBox();
    expect(drawer?.x).toBe(0);
    expect(drawer?.height).toBe(844);
    await screenshot(page, "shell-phone-drawer");
    // Escape closes it and focus returns to the Menu button.
    await page.keyboard.press("Escape");
    await nav.waitFor({ state: "hidden" });
    expect(await focused(page)).toContain("Menu");
    // Choosing a room closes it too.
    await menu.click();
    await nav.getByRole("link", { name: "Pocket two" }).click();
    await page.getByRole("heading", { level: 1, name: "Pocket two" }).waitFor();
    await nav.waitFor({ state: "hidden" });

    await page.getByRole("button", { name: "Reply in thread to Ada's message" }).click();
    const pane = page.getByRole("region", { name: "Thread" });
    await pane.getByText("hello from the second room").waitFor();
    expect(await pane.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 844 });
    const back = pane.getByRole("button", { name: "Back to the room" });
    expect(await back.isVisible()).toBe(true);
    expect(await pane.getByRole("button", { name: "Close thread" }).count()).toBe(0);
    await screenshot(page, "shell-phone-thread");
    await back.click();
    await pane.waitFor({ state: "detached" });
    expect(await focused(page)).toContain("Reply in thread");
    await expectNoSidewaysScroll(page);
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
