CREATE TYPE "public"."outbox_kind" AS ENUM('email', 'webhook');--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"room_id" uuid,
	"event_types" text[] NOT NULL,
	"secret" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "email_outbox" ADD COLUMN "kind" "outbox_kind" DEFAULT 'email' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhooks_room_id_idx" ON "webhooks" USING btree ("room_id");--> statement-breakpoint
-- Every room event, whichever statement writes it (the one-statement send, a thread reply,
-- appendRoomEvent), queues its webhook deliveries in its own transaction: exactly once per event,
-- and never for an event that rolled back. A global webhook (room_id null) sees public rooms only,
-- read as the room is when the event is written; DMs never.
CREATE FUNCTION "enqueue_webhook_deliveries"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "email_outbox" ("kind", "template", "to_address", "data")
  SELECT 'webhook', NEW."type", w."url",
         jsonb_build_object('webhookId', w."id", 'payload',
           jsonb_build_object('type', NEW."type", 'timestamp', now(), 'data', NEW."payload"))
    FROM "webhooks" w JOIN "rooms" r ON r."id" = NEW."room_id"
   WHERE w."active" AND NEW."type" = ANY (w."event_types") AND r."kind" = 'room'
     AND (w."room_id" = r."id" OR (w."room_id" IS NULL AND NOT r."is_private"));
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "room_events_enqueue_webhooks" AFTER INSERT ON "room_events"
  FOR EACH ROW EXECUTE FUNCTION "enqueue_webhook_deliveries"();
