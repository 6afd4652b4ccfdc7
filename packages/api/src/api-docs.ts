import type { AnyTRPCRouter } from "@trpc/server";
import { z } from "zod";
import { ACCESS_RULES } from "./access.ts";
import { procedureEntries } from "./trpc-internals.ts";

function inputSchema(inputs: readonly unknown[]): string {
  const parsers = inputs.filter((input) => input instanceof z.ZodType);
  const objects = parsers.filter((parser) => parser instanceof z.ZodObject);
  // tRPC runs every parser on the input and merges what they return (memberProcedure's
  // `{ roomId }` and the procedure's own): the input is their union, not the first alone.
  const input =
    parsers.length > 1 && objects.length === parsers.length
      ? z.object(Object.assign({}, ...objects.map((object) => object.shape)))
      : parsers[0];
  if (!input) return "none";
  const schema = z.toJSONSchema(input, { io: "input", unrepresentable: "any" });
  const { $schema: _, ...rest } = schema as Record<string, unknown>;
  return `\`${JSON.stringify(rest)}\``;
}

/** The API reference as Markdown, from the routers themselves: paths, kinds, access, inputs. */
export function renderApiDocs(router: AnyTRPCRouter): string {
  const groups = new Map<string, string[]>();
  for (const { path, type, meta, inputs } of procedureEntries(router)) {
    const group = path.split(".")[0] ?? path;
    const row = `| \`${path}\` | ${type} | ${ACCESS_RULES[meta.access ?? "anyone"].who} | ${meta.summary ?? ""} | ${inputSchema(inputs)} |`;
    groups.set(group, [...(groups.get(group) ?? []), row]);
  }
  const sections = [...groups].map(
    ([group, rows]) =>
      `## ${group}\n\n| procedure | kind | who | what | input (JSON Schema) |\n|---|---|---|---|---|\n${rows.join("\n")}\n`,
  );
  return `# Parley API reference

Generated from the routers by \`pnpm docs:generate\`; a test fails when this file and the routers differ.
Over HTTP, queries are \`GET /trpc/<procedure>?input=…\` and mutations \`POST /trpc/<procedure>\`
with a JSON body; both carry superjson (\`{"json": …}\`). Subscriptions use the WebSocket at
\`/trpc\`. Errors are tRPC errors with the standard codes; a validation failure is \`BAD_REQUEST\`
with \`data.zodError.fieldErrors\` keyed by input field.
The WebSocket speaks tRPC's protocol (\`wsLink\`, with \`connectionParams.token\` or the session
cookie). The server sends a WebSocket ping every 30 s, which browsers and \`ws\` answer by
themselves, and drops a socket that left the previous ping unanswered. Input that cannot be
decoded at all (not JSON, a malformed superjson \`meta\`, a frame without \`input\`) is refused
with \`BAD_REQUEST\` over HTTP and \`PARSE_ERROR\` on the WebSocket, saying \`Malformed input\`.

The server closes a WebSocket with one of these codes:

| code | when | the client |
|---|---|---|
| 1001 | the server is shutting down | reconnects (to another instance) |
| 4001 | the socket's session ended: logout, password change, revocation, its idle expiry or absolute lifetime; calls already running are answered first | reconnects with its current credentials; subscriptions of a signed-out client end with \`UNAUTHORIZED\` |
| 4002 | the user's rights changed (role, email verification), on any instance | reconnects at once and resumes its subscriptions from \`lastEventId\` with the new rights |
| 4008 | the client stopped reading (1 MiB queued for it) | reconnects |
| 4029 | the user already holds the most sockets one instance allows (\`WS_CONNECTIONS_PER_USER\`, 20) | retries with backoff: close a tab or client first |

${sections.join("\n")}`;
}
