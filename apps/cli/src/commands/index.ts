import type { CommandEntry } from "../command.ts";

/**
 * Every command, in the order `parley --help` lists them. Each module is imported when its
 * command runs or shows its help (esbuild makes each a chunk of its own): the schemas (zod)
 * and the client stay out of `parley --help`, `--version` and the other commands.
 */
export const commands: CommandEntry[] = [
  {
    name: "login",
    synopsis: "",
    summary: "sign in and keep the session token for later commands",
    load: async () => (await import("./session.ts")).login,
  },
  {
    name: "logout",
    synopsis: "",
    summary: "end the session on the server and forget its token",
    load: async () => (await import("./session.ts")).logout,
  },
  {
    name: "whoami",
    synopsis: "",
    summary: "show who you are signed in as",
    load: async () => (await import("./session.ts")).whoami,
  },
  {
    name: "rooms list",
    synopsis: "",
    summary: "list the rooms you can see, with unread counts",
    load: async () => (await import("./rooms.ts")).roomsList,
  },
  {
    name: "rooms create",
    synopsis: "NAME",
    summary: "create a room (you become its owner)",
    load: async () => (await import("./rooms.ts")).roomsCreate,
  },
  {
    name: "send",
    synopsis: "ROOM TEXT…",
    summary: "send a message to a room",
    load: async () => (await import("./send.ts")).send,
  },
  {
    name: "tail",
    synopsis: "ROOM",
    summary: "print a room's messages as they arrive, until Ctrl-C",
    load: async () => (await import("./tail.ts")).tail,
  },
  {
    name: "submissions list",
    synopsis: "",
    summary: "list contact and demo requests, newest first (admins)",
    load: async () => (await import("./submissions.ts")).submissionsList,
  },
  {
    name: "users list",
    synopsis: "",
    summary: "list the accounts, newest first (admins)",
    load: async () => (await import("./users.ts")).usersList,
  },
  {
    name: "users set-role",
    synopsis: "USER ROLE",
    summary: "make a user an admin, or a plain user again (admins)",
    load: async () => (await import("./users.ts")).usersSetRole,
  },
  {
    name: "audit list",
    synopsis: "",
    summary: "list the audit log, newest first, with filters (admins)",
    load: async () => (await import("./audit.ts")).auditList,
  },
  {
    name: "admin create",
    synopsis: "",
    summary: "create or promote an admin, in the database itself (operators)",
    load: async () => (await import("./admin-create.ts")).adminCreate,
  },
];
