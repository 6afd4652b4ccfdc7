-- The search index's pending list at 64 kB instead of 4 MB (schema.ts says why: the send that
-- found the list full merged all of it into the index, 92-156 ms, while every send to its room
-- waited). ALTER rather than drizzle-kit's DROP and CREATE: no rebuild of the index and no lock on
-- messages for its length. What the list holds already is merged once here: the next send would
-- otherwise find it past the new limit and merge up to 4 MB itself.
ALTER INDEX "messages_content_search_idx" SET (fastupdate = on, gin_pending_list_limit = 64);--> statement-breakpoint
SELECT gin_clean_pending_list('messages_content_search_idx');
