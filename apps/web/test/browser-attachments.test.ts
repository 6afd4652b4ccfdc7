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
import { PDF, png } from "./support/sample-files.ts";

const t = serverAndBrowserForFile();

const timeline = (page: Page) => page.locator("[role=log]");
const threadPane = (page: Page) => page.getByRole("region", { name: "Thread" });
const live = (page: Page) =>
  page.locator("header [role=status].connection").filter({ hasText: "Live" }).waitFor();

async function signedIn(user: SignedUp, device?: BrowserContextOptions): Promise<Page> {
  const page = await newPerson(t.browser, device);
  await signIn(page, t.server.url, user.email, GOOD_PASSWORD);
  return page;
}

describe("attachments in the web app", () => {
  it("one person sends an image and a PDF in a room; the other, on a phone, sees the thumbnail and downloads the PDF", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const room = await ada.api.chat.rooms.create.mutate({ name: "Darkroom", isPrivate: false });
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });

    const adaPage = await signedIn(ada);
    await adaPage.goto(`${t.server.url}/rooms/${room.id}`);
    await live(adaPage);
    const files = adaPage.locator("#composer-files");
    const pending = adaPage.getByRole("list", { name: "Files to send" });

    // A type the server never takes is refused before anything is asked: one line, nothing pending.
    await files.setInputFiles({
      name: "site.html",
      mimeType: "text/html",
      buffer: Buffer.from("<h1>hi</h1>"),
    });
    await adaPage.getByRole("alert").filter({ hasText: "site.html: only images" }).waitFor();
    expect(await pending.count()).toBe(0);

    // HTML bytes under an image's name and type: the server looks at the bytes and refuses them.
    await files.setInputFiles({
      name: "cat.png",
      mimeType: "image/png",
      buffer: Buffer.from("<html><script>alert(1)</script></html>"),
    });
    await adaPage.getByRole("alert").filter({ hasText: "cat.png: " }).waitFor();
    expect(await pending.count()).toBe(0);

    // Over the server's limit (10 MiB by default): refused when announced, before any byte is sent.
    await files.setInputFiles({
      name: "scan.pdf",
      mimeType: "application/pdf",
      buffer: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    await adaPage.getByRole("alert").filter({ hasText: "scan.pdf: A file may be at most 10 MiB" }).waitFor();
    expect(await pending.count()).toBe(0);
    // The refusal is about the file: the text box is not marked wrong.
    expect(await adaPage.getByRole("textbox", { name: "Message" }).getAttribute("aria-invalid")).toBeNull();

    // A file chosen by mistake is taken off the draft before sending.
    await files.setInputFiles({ name: "wrong.txt", mimeType: "text/plain", buffer: Buffer.from("oops") });
    await pending.getByText("wrong.txt").waitFor();
    await adaPage.getByRole("button", { name: "Remove wrong.txt" }).click();
    await pending.waitFor({ state: "detached" });

    // The image and the PDF, chosen together; each uploads, then the message goes with both. The
    // upload is slowed (Chromium's network emulation, 40 KB/s up) so that its progress shows.
    const devtools = await adaPage.context().newCDPSession(adaPage);
    await devtools.send("Network.enable");
    const throttle = (uploadThroughput: number) =>
      devtools.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput,
      });
    await throttle(40 * 1024);
    await files.setInputFiles([
      { name: "negative.png", mimeType: "image/png", buffer: png(640, 480) },
      { name: "contact sheet.pdf", mimeType: "application/pdf", buffer: PDF },
    ]);
    await pending.getByText("negative.png").waitFor();
    await pending.getByText("contact sheet.pdf").waitFor();
    const progress = pending.getByRole("progressbar", { name: "Uploading negative.png" });
    await expect
      .poll(async () => Number(await progress.getAttribute("value")), { timeout: 15_000 })
      .toBeGreaterThan(0);
    // Sending before the files are up is held back, in words.
    await adaPage.getByRole("button", { name: "Send", exact: true }).click();
    await adaPage.getByRole("alert").filter({ hasText: "Wait for the files to finish uploading." }).waitFor();
    await throttle(-1);
    await progress.waitFor({ state: "detached" });
    expect(await pending.getByText(", uploaded").count()).toBe(2);
    await screenshot(adaPage, "attachments-pending-desktop");
    const box = adaPage.getByRole("textbox", { name: "Message" });
    await box.fill("Prints from today");
    await box.press("Enter");
    await timeline(adaPage).getByText("Prints from today").waitFor();
    await pending.waitFor({ state: "detached" });

    // Bob, on a phone, sees the thumbnail (its box reserved at the image's ratio) and the chip.
    const bobPage = await signedIn(bob, PHONE);
    await bobPage.goto(`${t.server.url}/rooms/${room.id}`);
    const message = timeline(bobPage).locator("li.message").filter({ hasText: "Prints from today" });
    const thumbnail = message.getByRole("img", { name: "negative.png" });
    await thumbnail.waitFor();
    expect(await thumbnail.getAttribute("width")).toBe("240");
    expect(await thumbnail.getAttribute("height")).toBe("180");
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBeGreaterThan(0);
    const thumbnailSrc = await thumbnail.getAttribute("src");
    expect(thumbnailSrc).toMatch(/^\/api\/v1\/files\/[0-9a-f-]+\/thumbnail$/);

    // The thumbnail opens the full image; the full image is served inline.
    const imageLink = message.getByRole("link", { name: /^negative\.png/ });
    const imageHref = await imageLink.getAttribute("href");
    expect(imageHref).toMatch(/^\/api\/v1\/files\/[0-9a-f-]+$/);
    const image = await bobPage.request.get(`${t.server.url}${imageHref}`);
    expect(image.status()).toBe(200);
    expect(image.headers()["content-type"]).toBe("image/png");

    // The PDF is a chip with its name and size that downloads, as an attachment.
    const chip = message.getByRole("link", { name: /^Download contact sheet\.pdf/ });
    await chip.getByText(/\d+ B$/).waitFor();
    const pdfHref = await chip.getAttribute("href");
    expect(pdfHref).toMatch(/^\/api\/v1\/files\/[0-9a-f-]+$/);
    const pdf = await bobPage.request.get(`${t.server.url}${pdfHref}`);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()["content-disposition"]).toMatch(/^attachment;/);
    expect(pdf.headers()["x-content-type-options"]).toBe("nosniff");
    expect(Buffer.from(await pdf.body()).equals(PDF)).toBe(true);
    // The click itself is a download, not a page that replaces the app.
    const [download] = await Promise.all([bobPage.waitForEvent("download"), chip.click()]);
    expect(download.suggestedFilename()).toBe("contact sheet.pdf");

    // A long name waiting in the composer is cut, not a page wider than the phone.
    await bobPage.locator("#composer-files").setInputFiles({
      name: `${"a-very-long-file-name-".repeat(8)}.txt`,
      mimeType: "text/plain",
      buffer: Buffer.from("long"),
    });
    const bobPending = bobPage.getByRole("list", { name: "Files to send" });
    await bobPending.getByText(", uploaded").waitFor();
    await expectNoSidewaysScroll(bobPage);
    const report = await runAxe(bobPage);
    expect(report.violations, `the room with attachments: ${formatCounts(report)}`).toEqual([]);
    await screenshot(bobPage, "attachments-phone");
    await bobPending.getByRole("button", { name: /^Remove a-very-long/ }).click();
    await bobPending.waitFor({ state: "detached" });
    expect([...pageErrorsOf(adaPage), ...pageErrorsOf(bobPage)]).toEqual([]);
  });

  it("in a DM, a pasted screenshot goes as a message of its own, and a thread reply carries a file dropped on its box", async () => {
    const ada = await signUpAt(t.server.url, "Ada");
    const bob = await signUpAt(t.server.url, "Bob");
    const dm = await ada.api.chat.dms.open.mutate({ userIds: [bob.user.id] });
    await bob.api.chat.messages.send.mutate({
      roomId: dm.id,
      content: "The notes?",
      clientMessageId: "root",
    });

    const page = await signedIn(ada);
    await page.goto(`${t.server.url}/rooms/${dm.id}`);
    await live(page);

    // A screenshot pasted into the message box (files alone on the clipboard) is attached, not typed.
    const screenshotPng = [...png(120, 80)];
    await page.getByRole("textbox", { name: "Message" }).evaluate((box, bytes) => {
      const clipboard = new DataTransfer();
      clipboard.items.add(new File([new Uint8Array(bytes)], "image.png", { type: "image/png" }));
      box.dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: clipboard, bubbles: true, cancelable: true }),
      );
    }, screenshotPng);
    const composerFiles = page.getByRole("list", { name: "Files to send" });
    await composerFiles.getByText(", uploaded").waitFor();
    expect(await page.getByRole("textbox", { name: "Message" }).inputValue()).toBe("");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const pasted = timeline(page).getByRole("img", { name: "image.png" });
    await pasted.waitFor();
    expect([await pasted.getAttribute("width"), await pasted.getAttribute("height")]).toEqual(["120", "80"]);

    await page.getByRole("button", { name: "Reply in thread to Bob's message" }).click();
    const pane = threadPane(page);
    await pane.getByText("No replies yet.").waitFor();

    // A drop of a file from the desktop, as the browser delivers it.
    const dataTransfer = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["first line\nsecond line\n"], "notes.txt", { type: "text/plain" }));
      return transfer;
    });
    const form = pane.locator("form.thread-composer");
    await form.dispatchEvent("dragover", { dataTransfer });
    await form.dispatchEvent("drop", { dataTransfer });
    const pending = pane.getByRole("list", { name: "Files to send" });
    await pending.getByText(", uploaded").waitFor();
    // A file alone is a message: no text needed.
    await pane.getByRole("button", { name: "Reply", exact: true }).click();
    await pane.getByRole("link", { name: /^Download notes\.txt/ }).waitFor();
    await pending.waitFor({ state: "detached" });

    const thread = await bob.api.chat.threads.list.query({
      threadId: (await rootOf(bob, dm.id)).id,
      limit: 10,
    });
    const replies = thread.items.filter((m) => m.parentId !== null);
    expect(replies.map((m) => [m.content, m.attachments.map((a) => [a.name, a.contentType])])).toEqual([
      ["", [["notes.txt", "text/plain"]]],
    ]);
    expect(pageErrorsOf(page)).toEqual([]);
  });
});

async function rootOf(user: SignedUp, roomId: string) {
  const page = await user.api.chat.messages.list.query({ roomId, limit: 10 });
  const root = page.items.find((m) => m.content === "The notes?");
  if (!root) throw new Error("the root message is missing");
  return root;
}
