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

async function personInRoom(user: SignedUp, roomId: string, device?: BrowserContextOptions): Promise<Page> {
  const page = await newPerson(t.browser, device);
  await signIn(page, t.server.url, user.email, GOOD_PASSWORD);
  await page.goto(`${t.server.url}/rooms/${roomId}`);
  await expectConnection(page, "Live");
  return page;
}

const connection = (page: Page) => page.locator("header [role=status].connection");

async function expectConnection(page: Page, text: "Live" | "Reconnecting…") {
  await connection(page).filter({ hasText: text }).waitFor();
}

async function say(page: Page, text: string) {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
  await expect.poll(() => box.inputValue()).toBe("");
}

/** The message texts on the page, in order, once they equal `expected` (or the poll times out). */
async function expectMessages(page: Page, expected: string[]) {
  const bodies = page.locator("[role=log] .message-body");
  await expect.poll(() => bodies.allTextContents(), { timeout: 30_000 }).toEqual(expected);
}

async function renderedSeqs(page: Page): Promise<number[]> {
  const seqs = await page
    .locator("[role=log] .message")
    .evaluateAll((items) => items.map((item) => Number(item.getAttribute("data-seq"))));
  return seqs;
}

/** Where an element is on the screen (CSS pixels, relative to the viewport). */
async function boxOf(page: Page, selector: string) {
  return page
    .locator(selector)
    .last()
    .evaluate((element) => {
      const { top, bottom, left, right } = element.getBoundingClientRect();
      return { top, bottom, left, right };
    });
}

describe("the room page", () => {
  it("on a 390 × 844 phone keeps the composer on screen and the newest message in view as messages come", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const room = await ada.api.chat.rooms.create.mutate({ name: "Pocket", isPrivate: false });
    // More than a phone's screen holds: the timeline has to scroll.
    for (let i = 1; i <= 30; i++) {
      await ada.api.chat.messages.send.mutate({
        roomId: room.id,
        content: `earlier message ${i}`,
        clientMessageId: `pocket-${i}`,
      });
    }
    const page = await personInRoom(ada, room.id, PHONE);
    await expectMessages(
      page,
      Array.from({ length: 30 }, (_, i) => `earlier message ${i + 1}`),
    );

    const screen = { width: 390, height: 844 };
    const expectOnScreen = async (selector: string) => {
      const box = await boxOf(page, selector);
      expect(box.top, `${selector} top`).toBeGreaterThanOrEqual(0);
      expect(box.left, `${selector} left`).toBeGreaterThanOrEqual(0);
      expect(box.bottom, `${selector} bottom`).toBeLessThanOrEqual(screen.height);
      expect(box.right, `${selector} right`).toBeLessThanOrEqual(screen.width);
    };
    /** The newest message lies inside the timeline's visible part (and so on screen). */
    const expectNewestInView = async () => {
      await expect
        .poll(async () => {
          const [newest, timeline] = [
            await boxOf(page, "[role=log] .message"),
            await boxOf(page, ".timeline"),
          ];
          return newest.top >= timeline.top && newest.bottom <= timeline.bottom + 1;
        })
        .toBe(true);
      await expectOnScreen("[role=log] .message");
    };

    await expectOnScreen(".composer");
    await expectNewestInView();
    for (let i = 1; i <= 5; i++) {
      await say(page, `from my phone ${i}`);
      await expect
        .poll(() => page.locator("[role=log] .message-body").last().textContent())
        .toBe(`from my phone ${i}`);
      await expectNewestInView();
      await expectOnScreen(".composer");
    }
    // The page itself does not scroll: the timeline does.
    expect(await page.evaluate(() => document.scrollingElement?.scrollHeight)).toBeLessThanOrEqual(
      screen.height,
    );
    await expectNoSidewaysScroll(page);
    await screenshot(page, "room-phone");
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("shows two people each other's messages live, and loses or doubles none across a server restart", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const room = await ada.api.chat.rooms.create.mutate({ name: "Launch plans", isPrivate: false });
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const adaPage = await personInRoom(ada, room.id);
    const bobPage = await personInRoom(bob, room.id);

    await say(adaPage, "Morning Bob, shall we plan the launch?");
    await expectMessages(bobPage, ["Morning Bob, shall we plan the launch?"]);
    await bobPage.getByRole("textbox", { name: "Message" }).fill("Sure, one moment");
    await adaPage.getByText("Bob is typing…").waitFor();
    await bobPage.getByRole("textbox", { name: "Message" }).press("Enter");
    await expectMessages(adaPage, ["Morning Bob, shall we plan the launch?", "Sure, one moment"]);
    await expect
      .poll(() => adaPage.locator(".presence").textContent())
      .toMatch(/Online: (Ada, Bob|Bob, Ada)/);

    // The restart: both pages notice, and nothing can reach them while the server is down.
    await t.server.stop();
    await Promise.all([
      expectConnection(adaPage, "Reconnecting…"),
      expectConnection(bobPage, "Reconnecting…"),
    ]);
    // Bob's browser stays offline after the server is back: what is said meanwhile must reach
    // him by replay (lastEventId), not live.
    await bobPage.context().setOffline(true);
    await t.server.start();
    await expectConnection(adaPage, "Live");
    await say(adaPage, "Server is back. Bob?");
    await ada.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "Sent from Ada's laptop while Bob was away",
      clientMessageId: "away-1",
    });
    // Still cut off: what Bob gets next can only come from the replay.
    expect(await connection(bobPage).textContent()).toBe("Reconnecting…");
    expect(await bobPage.locator("[role=log] .message-body").count()).toBe(2);
    await bobPage.context().setOffline(false);
    await expectConnection(bobPage, "Live");
    await say(bobPage, "Here again, I missed nothing");
    await say(adaPage, "Great");

    const expected = [
      "Morning Bob, shall we plan the launch?",
      "Sure, one moment",
      "Server is back. Bob?",
      "Sent from Ada's laptop while Bob was away",
      "Here again, I missed nothing",
      "Great",
    ];
    await expectMessages(adaPage, expected);
    await expectMessages(bobPage, expected);
    for (const page of [adaPage, bobPage]) {
      const seqs = await renderedSeqs(page);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    await screenshot(adaPage, "room-ada-after-restart");
    await screenshot(bobPage, "room-bob-after-restart");
    expect([...pageErrorsOf(adaPage), ...pageErrorsOf(bobPage)]).toEqual([]);
  });

  it("pages back through history, and shows edits, deletions and reactions to the other person", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const room = await ada.api.chat.rooms.create.mutate({ name: "History", isPrivate: false });
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    for (let i = 1; i <= 120; i++) {
      await ada.api.chat.messages.send.mutate({
        roomId: room.id,
        content: `note ${i}`,
        clientMessageId: `n${i}`,
      });
    }
    const adaPage = await personInRoom(ada, room.id);
    const bobPage = await personInRoom(bob, room.id);

    const bodies = bobPage.locator("[role=log] .message-body");
    await expect.poll(() => bodies.count()).toBe(50);
    // Scrolling to the top loads older pages until the start of the room.
    await expect
      .poll(
        async () => {
          await bobPage.locator(".timeline").evaluate((el) => el.scrollTo({ top: 0 }));
          return bodies.count();
        },
        { timeout: 30_000 },
      )
      .toBe(120);
    await bobPage.getByText("This is the start of the room.").waitFor();
    expect(await bodies.first().textContent()).toBe("note 1");

    const last = adaPage.locator("[role=log] .message").last();
    await last.getByRole("button", { name: "Edit" }).click();
    await last.getByRole("textbox", { name: "Edit message" }).fill("note 120, edited");
    await last.getByRole("button", { name: "Save" }).click();
    await bobPage.locator("[role=log] .message").last().getByText("note 120, edited").waitFor();
    await expect
      .poll(() => bobPage.locator("[role=log] .message").last().textContent())
      .toContain("(edited)");

    const bobsView = bobPage.locator("[role=log] .message").last();
    await bobsView.locator("summary").click();
    await bobsView.getByRole("button", { name: "🎉" }).click();
    await adaPage.locator("[role=log] .message").last().getByRole("button", { name: "🎉 1" }).waitFor();

    adaPage.once("dialog", (dialog) => void dialog.accept());
    await adaPage.locator("[role=log] .message").nth(-2).getByRole("button", { name: "Delete" }).click();
    await bobPage.locator("[role=log] .message").nth(-2).getByText("Message deleted").waitFor();
    await expect.poll(() => bodies.count()).toBe(120);
    expect([...pageErrorsOf(adaPage), ...pageErrorsOf(bobPage)]).toEqual([]);
  });
  it("lists rooms with unread counts, which reading the room clears, and finds messages by search", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const news = await ada.api.chat.rooms.create.mutate({
      name: "Announcements",
      description: "News for everyone",
      isPrivate: false,
    });
    await bob.api.chat.rooms.join.mutate({ roomId: news.id });
    await ada.api.chat.rooms.create.mutate({ name: "Design reviews", isPrivate: false });
    for (const [i, text] of [
      "Office closed Friday",
      "New coffee machine",
      "Quarterly numbers are in",
    ].entries()) {
      await ada.api.chat.messages.send.mutate({ roomId: news.id, content: text, clientMessageId: `a${i}` });
    }

    const page = await newPerson(t.browser);
    await signIn(page, t.server.url, bob.email, GOOD_PASSWORD);
    const newsRow = page.locator(".room-row", { has: page.getByRole("link", { name: "Announcements" }) });
    await newsRow.getByText("3 unread").waitFor();
    await page
      .locator(".room-row", { has: page.getByRole("link", { name: "Design reviews" }) })
      .getByRole("button", { name: "Join Design reviews" })
      .waitFor();
    await screenshot(page, "rooms-list");

    const markedRead = page.waitForResponse((response) => response.url().includes("chat.rooms.markRead"));
    await newsRow.getByRole("link", { name: "Announcements" }).click();
    await expectMessages(page, ["Office closed Friday", "New coffee machine", "Quarterly numbers are in"]);
    await markedRead;
    await page.getByRole("link", { name: "Rooms", exact: true }).click();
    await newsRow.waitFor();
    await expect.poll(() => newsRow.locator(".badge").count()).toBe(0);

    await page.getByRole("link", { name: "Search", exact: true }).click();
    await page.getByLabel("Words to find").fill("coffee");
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator(".search-results").getByText("New coffee machine").waitFor();
    await screenshot(page, "search");
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
