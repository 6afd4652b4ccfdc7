import type { Command } from "../command.ts";
import { adminCreate } from "./admin-create.ts";
import { roomsCreate, roomsList } from "./rooms.ts";
import { send } from "./send.ts";
import { login, logout, whoami } from "./session.ts";
import { submissionsList } from "./submissions.ts";
import { tail } from "./tail.ts";
import { usersSetRole } from "./users.ts";

/** Every command, in the order `parley --help` lists them. */
export const commands: Command[] = [
  login,
  logout,
  whoami,
  roomsList,
  roomsCreate,
  send,
  tail,
  submissionsList,
  usersSetRole,
  adminCreate,
];
