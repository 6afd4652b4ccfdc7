import { GOOD_PASSWORD, type SignedUp, signUpAt, uniqueEmail } from "@parley/testing/accounts";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type AxeReport, formatCounts, runAxe } from "./support/axe.ts";
import { newPerson, pageErrorsOf, serverAndBrowserForFile, signIn } from "./support/browser.ts";
import { PDF, png, uploadAs } from "./support/sample-files.ts";

const t = serverAndBrowserForFile();

type Who = "signed-out" | "user" | "admin";

interface Visit {
  name: string;
  who: Who;
  path: string;
  /** What shows once the page has its content (axe must see the loaded page, not "Loading…"). */
  ready: (page: Page) => Promise<void>;
}

const heading = (name: string | RegExp) => (page: Page) =>
  page.getByRole("heading", { level: 1, name }).waitFor();

/** The two ways people see the app: a desktop in the light scheme, a phone in the dark one. */
const LOOKS = [
  { name: "desktop light", viewport: { width: 1100, height: 800 }, colorScheme: "light" },
  { name: "phone dark", viewport: { width: 390, height: 844 }, colorScheme: "dark" },
] as const;

async function fixtures() {
  const adminEmail = uniqueEmail("axe-admin");
  await t.server.createAdmin({ email: adminEmail, password: GOOD_PASSWORD, displayName: "Axe Admin" });
  const user: SignedUp = await signUpAt(t.server.url, "Rosalind");
  const other = await signUpAt(t.server.url, "Maurice");
  const room = await user.api.chat.rooms.create.mutate({ name: "Crystallography", isPrivate: false });
  await other.api.chat.rooms.join.mutate({ roomId: room.id });
  // Every kind of message the page draws: someone else's with a reaction, one with files (a
  // thumbnail and a download chip), an edited one, a deleted one, and plain ones of one's own.
  let sent = 0;
  const send = (who: SignedUp, content: string) =>
    who.api.chat.messages.send.mutate({ roomId: room.id, content, clientMessageId: `axe-${++sent}` });
  const theirs = await send(other, "Photo 51 is ready");
  await user.api.chat.messages.react.mutate({ messageId: theirs.id, emoji: "🎉" });
  const attachmentIds = [
    await uploadAs(t.server.url, other, room.id, {
      name: "photo-51.png",
      contentType: "image/png",
      bytes: png(300, 400),
    }),
    await uploadAs(t.server.url, other, room.id, {
      name: "notes.pdf",
      contentType: "application/pdf",
      bytes: PDF,
    }),
  ];
  await other.api.chat.messages.send.mutate({
    roomId: room.id,
    content: "",
    clientMessageId: `axe-${++sent}`,
    attachmentIds,
  });
  const edited = await send(user, "The helix is clear");
  await user.api.chat.messages.edit.mutate({ messageId: edited.id, content: "The double helix is clear" });
  const deleted = await send(user, "Wrong room, sorry");
  await user.api.chat.messages.delete.mutate({ messageId: deleted.id });
  await send(user, "Sending the notes");
  const posted = await fetch(`${t.server.url}/api/forms/contact`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "Lise Meitner",
      email: uniqueEmail("lise"),
      subject: "Pricing",
      message: "What does a team plan cost?",
    }),
  });
  expect(posted.status).toBe(200);
  return { adminEmail, user, roomId: room.id };
}

describe("accessibility (axe-core)", () => {
  // Twenty visits, each in two looks: longer than the default timeout on a loaded machine.
  it("finds no serious or critical violation on any page, signed out, as a user and as an admin", async () => {
    const { adminEmail, user, roomId } = await fixtures();
    const people: Record<Who, Page> = {
      "signed-out": await newPerson(t.browser),
      user: await newPerson(t.browser),
      admin: await newPerson(t.browser),
    };
    await signIn(people.user, t.server.url, user.email, GOOD_PASSWORD);
    await signIn(people.admin, t.server.url, adminEmail, GOOD_PASSWORD);

    const visits: Visit[] = [
      { name: "sign-in", who: "signed-out", path: "/sign-in", ready: heading("Sign in") },
      { name: "sign-up", who: "signed-out", path: "/sign-up", ready: heading("Create an account") },
      { name: "contact form", who: "signed-out", path: "/contact", ready: heading("Contact us") },
      { name: "demo form", who: "signed-out", path: "/demo", ready: heading("Request a demo") },
      {
        name: "reset-password (ask for a link)",
        who: "signed-out",
        path: "/reset-password",
        ready: heading("Reset your password"),
      },
      {
        name: "reset-password (new password)",
        who: "signed-out",
        path: "/reset-password?token=from-the-email",
        ready: heading("Choose a new password"),
      },
      {
        name: "verify-email (bad link)",
        who: "signed-out",
        path: "/verify-email?token=not-a-real-token",
        ready: async (page) => {
          await heading("Verify your email")(page);
          await page.locator("[role=status] .form-error").waitFor();
        },
      },
      {
        name: "rooms list",
        who: "user",
        path: "/rooms",
        // In the page, not the sidebar, which lists the same room.
        ready: (page) => page.getByRole("main").getByRole("link", { name: "Crystallography" }).waitFor(),
      },
      {
        name: "room with messages",
        who: "user",
        path: `/rooms/${roomId}`,
        ready: async (page) => {
          await page.getByText("Sending the notes").waitFor();
          await page.getByRole("img", { name: "photo-51.png" }).waitFor();
          // The reaction picker open, so its buttons are checked too.
          await page.locator(".react-picker summary").first().click();
          await page.getByRole("button", { name: "👀" }).first().waitFor();
        },
      },
      {
        name: "room with a file waiting to be sent",
        who: "user",
        path: `/rooms/${roomId}`,
        ready: async (page) => {
          await page.getByText("Sending the notes").waitFor();
          await page
            .locator("#composer-files")
            .setInputFiles({ name: "draft.txt", mimeType: "text/plain", buffer: Buffer.from("a draft") });
          await page.getByRole("list", { name: "Files to send" }).getByText(", uploaded").waitFor();
        },
      },
      {
        name: "room with the thread pane open",
        who: "user",
        path: `/rooms/${roomId}`,
        ready: async (page) => {
          await page.getByText("Sending the notes").waitFor();
          await page
            .getByRole("button", { name: /^Reply in thread/ })
            .first()
            .click();
          await page.getByRole("heading", { name: "Thread" }).waitFor();
        },
      },
      {
        name: "room with the emoji picker open",
        who: "user",
        path: `/rooms/${roomId}`,
        ready: async (page) => {
          await page.getByText("Sending the notes").waitFor();
          await page.getByRole("button", { name: "Insert an emoji" }).click();
          await page
            .getByRole("dialog", { name: "Insert an emoji" })
            .getByLabel("Search emoji")
            .fill("heart");
          await page.getByRole("button", { name: "red heart" }).waitFor();
        },
      },
      {
        // On a phone the drawer is opened; a desktop's sidebar is always there.
        name: "room with the sidebar drawer open",
        who: "user",
        path: `/rooms/${roomId}`,
        ready: async (page) => {
          await page.getByText("Sending the notes").waitFor();
          const menu = page.getByRole("button", { name: "Menu", exact: true });
          if (await menu.isVisible()) {
            await menu.click();
            await page.getByRole("button", { name: "Close menu" }).waitFor();
          }
        },
      },
      {
        name: "room settings",
        who: "user",
        path: `/rooms/${roomId}/settings`,
        // The moderation round's settings page (roles, mutes, bans) is the one the app routes to.
        ready: heading("Crystallography: settings"),
      },
      {
        name: "new direct message",
        who: "user",
        path: "/messages/new",
        ready: (page) => page.getByRole("group", { name: "People" }).getByRole("checkbox").first().waitFor(),
      },
      {
        name: "search",
        who: "user",
        path: "/search?q=notes",
        ready: (page) => page.locator(".search-results li").first().waitFor(),
      },
      {
        name: "403 (user opens an admin page)",
        who: "user",
        path: "/admin/users",
        ready: heading("Admins only"),
      },
      {
        name: "admin submissions",
        who: "admin",
        path: "/admin/submissions",
        ready: (page) => page.getByRole("cell", { name: "Lise Meitner" }).waitFor(),
      },
      {
        name: "a submission",
        who: "admin",
        path: "/admin/submissions",
        ready: async (page) => {
          await page
            .getByRole("row", { name: /Lise Meitner/ })
            .getByRole("link")
            .click();
          await heading("Contact from Lise Meitner")(page);
        },
      },
      {
        name: "admin users",
        who: "admin",
        path: "/admin/users",
        ready: (page) => page.getByRole("cell", { name: "Rosalind", exact: true }).waitFor(),
      },
      {
        name: "admin email jobs",
        who: "admin",
        path: "/admin/jobs",
        ready: (page) => page.getByRole("cell", { name: user.email }).first().waitFor(),
      },
      {
        name: "admin audit log",
        who: "admin",
        path: "/admin/audit",
        ready: (page) => page.getByRole("cell", { name: "auth.login", exact: true }).first().waitFor(),
      },
    ];

    const reports: { visit: string; look: string; report: AxeReport }[] = [];
    for (const visit of visits) {
      const page = people[visit.who];
      for (const look of LOOKS) {
        await page.setViewportSize(look.viewport);
        await page.emulateMedia({ colorScheme: look.colorScheme });
        await page.goto(`${t.server.url}${visit.path}`);
        await visit.ready(page);
        reports.push({ visit: visit.name, look: look.name, report: await runAxe(page) });
      }
    }

    // Printed so that the counts can be quoted (and compared run to run).
    console.log(
      [
        "axe-core violations (rules violated, by impact):",
        ...reports.map(
          ({ visit, look, report }) => `  ${`${visit} [${look}]`.padEnd(52)} ${formatCounts(report)}`,
        ),
      ].join("\n"),
    );
    const blocking = reports.flatMap(({ visit, look, report }) =>
      report.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${visit} [${look}]: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(", ")}`),
    );
    expect(blocking).toEqual([]);
    for (const page of Object.values(people)) expect(pageErrorsOf(page)).toEqual([]);
  }, 180_000);
});
