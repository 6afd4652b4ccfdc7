import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RestartableServer, startRestartableServer } from "@parley/testing/restartable-server";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";

// Debian's Chromium, never a browser downloaded by Playwright (this machine cannot fetch one).
const CHROMIUM = "/usr/bin/chromium";

const webDir = fileURLToPath(new URL("../..", import.meta.url));

/** Screenshots land here (gitignored) for a person to look at. */
export const outputDir = join(webDir, "test-output");

/** The tests drive the built app as production serves it: fail early, and say how, when it is missing. */
export function requireBuiltWebApp() {
  if (!existsSync(join(webDir, "dist", "index.html"))) {
    throw new Error(
      "apps/web/dist is missing: run `pnpm build` (or `pnpm --filter @parley/web build`) first",
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install chromium (.ci/run installs it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox as root in a container; no background networking: this machine's closed
    // network refuses Chromium's own update, sync and prediction requests.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * A server of the file's own and Chromium, started before the file's tests (the built app
 * required) and closed after them. Read `server` and `browser` in the tests, once they are started.
 */
export function serverAndBrowserForFile(): { readonly server: RestartableServer; readonly browser: Browser } {
  let server: RestartableServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    requireBuiltWebApp();
    [server, browser] = await Promise.all([startRestartableServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error("the server starts in beforeAll: read it in a test");
      return server;
    },
    get browser() {
      if (!browser) throw new Error("Chromium starts in beforeAll: read it in a test");
      return browser;
    },
  };
}

const pageErrors = new WeakMap<Page, string[]>();

const DESKTOP: BrowserContextOptions = { viewport: { width: 1100, height: 800 } };

/** A 390 × 844 phone (an iPhone 12 to 14's CSS pixels), touch, honouring the viewport meta tag. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 3,
};

/** A page in a browser context of its own: its own cookies, as another person's browser would be. */
export async function newPerson(browser: Browser, device: BrowserContextOptions = DESKTOP): Promise<Page> {
  const context = await browser.newContext(device);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on("pageerror", (error) => errors.push(error.message));
  return page;
}

/** Uncaught errors the page's scripts threw so far (a test expects none). */
export function pageErrorsOf(page: Page): string[] {
  return pageErrors.get(page) ?? [];
}

/** Saves a full-page screenshot under test-output/ and prints where. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(outputDir, { recursive: true });
  const path = join(outputDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Rooms" }).waitFor();
}

/**
 * The page does not scroll sideways: nothing is wider than the screen. Against the device's
 * width, not only innerWidth: a mobile browser widens its layout viewport to fit wide content.
 */
export async function expectNoSidewaysScroll(page: Page) {
  const width = page.viewportSize()?.width ?? 0;
  const measured = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement?.scrollWidth ?? Number.POSITIVE_INFINITY,
    innerWidth: window.innerWidth,
  }));
  expect(measured.innerWidth, "the layout viewport was widened").toBe(width);
  expect(measured.scrollWidth, "the page scrolls sideways").toBeLessThanOrEqual(measured.innerWidth);
}
