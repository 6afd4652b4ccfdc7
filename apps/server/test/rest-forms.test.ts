import { schema } from "@parley/db";
import { uniqueEmail } from "@parley/testing/accounts";
import { Validator } from "@seriousme/openapi-schema-validator";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ allowedOrigins: ["https://www.example.com"] });
});
afterAll(() => t.close());

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    code?: string;
    message?: string;
    data?: { zodError?: { fieldErrors?: Record<string, string[]> } | null; retryAfterMs?: number | null };
  };
}

/** What `curl -X POST -H 'Content-Type: application/json' -d '…' URL` sends: plain JSON, no superjson. */
async function post(
  server: TestServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

function contact() {
  return {
    name: "Ada Lovelace",
    email: uniqueEmail("rest"),
    subject: "Pricing",
    message: "Posted from a PHP site with curl.",
  };
}

function demo() {
  return {
    name: "Grace Hopper",
    workEmail: uniqueEmail("rest-demo").replace("@example.com", "@navy.example"),
    company: "Harvard",
    companySize: "11-50" as const,
    useCase: "Chat on our marketing site.",
  };
}

async function submissionsFrom(email: string) {
  return t.server.deps.db
    .select()
    .from(schema.formSubmissions)
    .where(eq(schema.formSubmissions.email, email));
}

describe("POST /api/forms/contact and /api/forms/demo", () => {
  it("accept a JSON form as curl posts it, and store it like the tRPC procedure does", async () => {
    const input = contact();
    const reply = await post(t, "/api/forms/contact", { ...input, email: input.email.toUpperCase() });
    expect(reply).toMatchObject({ status: 200, body: { ok: true } });
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
    const [row] = await submissionsFrom(input.email);
    expect(row).toMatchObject({ kind: "contact", name: "Ada Lovelace", fields: { subject: "Pricing" } });

    const demoInput = demo();
    const charset = { "content-type": "application/json; charset=utf-8" };
    expect(await post(t, "/api/forms/demo", demoInput, charset)).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    expect(await submissionsFrom(demoInput.workEmail)).toHaveLength(1);
  });

  it("answer invalid input with 400 and JSON field errors, storing nothing", async () => {
    const input = { ...contact(), email: "not-an-email", message: "short" };
    const reply = await post(t, "/api/forms/contact", input);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    // The error formatter's summary, as over tRPC (trpc-to-openapi's own is patched out).
    expect(reply.body.message).toMatch(/^email: /);
    expect(reply.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: ["email"] })]));
    expect(Object.keys(reply.body.data?.zodError?.fieldErrors ?? {}).sort()).toEqual(["email", "message"]);
    expect(JSON.stringify(reply.body)).not.toMatch(/stack|\.ts:/);

    const freeMail = await post(t, "/api/forms/demo", { ...demo(), workEmail: "grace@gmail.com" });
    expect(freeMail.status).toBe(400);
    expect(freeMail.body.data?.zodError?.fieldErrors?.workEmail?.[0]).toMatch(/work email/);
    expect(await submissionsFrom("grace@gmail.com")).toEqual([]);
  });

  it("refuse a body that is not JSON, or not sent as JSON, with a JSON error", async () => {
    const broken = await post(t, "/api/forms/contact", "{not json");
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe("PARSE_ERROR");
    const form = await post(t, "/api/forms/contact", "name=Ada&email=ada%40example.com", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(415);
    expect(form.body.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const tooBig = await post(t, "/api/forms/contact", {
      ...contact(),
      message: "x".repeat(2 * 1024 * 1024),
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("drop a honeypot submission with the same 200", async () => {
    const input = { ...contact(), website: "http://spam.example" };
    expect(await post(t, "/api/forms/contact", input)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await submissionsFrom(input.email)).toEqual([]);
  });

  it("take a browser post from an allowed origin (with CORS) and refuse one from any other site", async () => {
    const allowed = await post(t, "/api/forms/contact", contact(), {
      "content-type": "application/json",
      origin: "https://www.example.com",
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://www.example.com");
    const foreign = await post(t, "/api/forms/contact", contact(), {
      "content-type": "application/json",
      origin: "https://evil.example",
    });
    expect(foreign.status).toBe(403);
  });

  it("answer an unknown path or method under /api with a JSON 404", async () => {
    expect((await post(t, "/api/forms/unknown", {})).status).toBe(404);
    const get = await fetch(`${t.url}/api/forms/contact`);
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("rate-limit a burst from one address with 429 and a retry hint, shared with the tRPC procedure", async () => {
    await using limited = await startTestServer({
      rateLimits: { forms: { points: 2, durationSeconds: 60 } },
    });
    expect((await post(limited, "/api/forms/contact", contact())).status).toBe(200);
    await limited.client().forms.demo.submit.mutate(demo());
    const refused = await post(limited, "/api/forms/demo", demo());
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.body.data?.retryAfterMs).toBeGreaterThan(0);
  });
});

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3 document describing both form endpoints and their error bodies", async () => {
    const response = await fetch(`${t.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, { post?: { requestBody?: unknown; responses?: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toMatch(/^3\./);
    expect(document.servers[0]?.url).toBe("/api");
    expect(Object.keys(document.paths).sort()).toEqual(["/forms/contact", "/forms/demo"]);
    const contactBody = JSON.stringify(document.paths["/forms/contact"]?.post?.requestBody);
    for (const field of ["name", "email", "company", "subject", "message", "website"]) {
      expect(contactBody).toContain(`"${field}"`);
    }
    const demoBody = JSON.stringify(document.paths["/forms/demo"]?.post?.requestBody);
    expect(demoBody).toContain('"5000+"');
    expect(Object.keys(document.paths["/forms/demo"]?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "400", "429"]),
    );
    expect(document.components.schemas["error.BAD_REQUEST"]?.properties).toHaveProperty("data");
  });
});
