export { isConnectionError } from "./connection-errors.ts";
export {
  type CreateDbOptions,
  createDb,
  type Database,
  type DbHandle,
  type Queryable,
  type Schema,
  type Transaction,
} from "./create-db.ts";
export { DataDirLockedError, lockDataDir } from "./data-dir-lock.ts";
export {
  type DataDirShare,
  dataDirIsShared,
  dataDirSocketPath,
  IDLE_TURN_MS,
  shareDataDir,
} from "./data-dir-socket.ts";
export { type MigrateOptions, migrate } from "./migrate.ts";
export { copyPgliteTemplate, pgliteVersion } from "./pglite-template.ts";
export { createPgliteTemplate } from "./pglite-template-build.ts";
export { type MessageViewJson, messageViewOf } from "./queries/message-view.ts";
export {
  type HistoryItem,
  historyPage,
  historyStatements,
  historyVersion,
  insertMessage,
  sentBefore,
} from "./queries/messages.ts";
export { threadPage } from "./queries/threads.ts";
export type { AttachmentViewJson } from "./schema.ts";
export * as schema from "./schema.ts";
export { defineStatement, type Statement } from "./statements.ts";
