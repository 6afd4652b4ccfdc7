-- The search index without GIN's pending list (schema.ts says why: a send that found the list
-- full merged all of it into the index, 100-160 ms, while every send to its room waited). ALTER
-- rather than drizzle-kit's DROP and CREATE: no rebuild of the index and no lock on messages for
-- its length. What the list holds already is merged once here, not by some later send.
ALTER INDEX "messages_content_search_idx" SET (fastupdate = off);--> statement-breakpoint
SELECT gin_clean_pending_list('messages_content_search_idx');
