import { createRoomInput } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useDeferredValue, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, TextAreaField, TextField, useFocusFirstInvalid } from "../forms/fields.tsx";
import { Link, navigate } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

type RoomSummary = RouterOutputs["chat"]["rooms"]["list"]["items"][number];

export function RoomsPage() {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const deferredSearch = useDeferredValue(search.trim());
  const rooms = useInfiniteQuery(
    trpc.chat.rooms.list.infiniteQueryOptions(
      { limit: 50, ...(deferredSearch ? { search: deferredSearch } : {}) },
      { getNextPageParam: (page) => page.nextCursor ?? undefined, refetchOnMount: "always" },
    ),
  );
  const items = rooms.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Page title="Rooms">
      <div className="columns">
        <section aria-labelledby="room-list-heading" className="stack">
          <h2 id="room-list-heading">All rooms</h2>
          <div className="field">
            <label htmlFor="room-filter">Find a room by name</label>
            <input
              id="room-filter"
              type="search"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          {rooms.isPending && <p>Loading rooms…</p>}
          {rooms.isError && <p className="form-error">{serverErrors(rooms.error)[""]}</p>}
          {rooms.isSuccess && items.length === 0 && <p>No rooms yet: create the first one.</p>}
          <ul className="room-list">
            {items.map((room) => (
              <RoomRow key={room.id} room={room} />
            ))}
          </ul>
          {rooms.hasNextPage && (
            <button type="button" onClick={() => rooms.fetchNextPage()} disabled={rooms.isFetchingNextPage}>
              More rooms
            </button>
          )}
        </section>
        <CreateRoomForm />
      </div>
    </Page>
  );
}

function RoomRow({ room }: { room: RoomSummary }) {
  const trpc = useTRPC();
  const join = useMutation(
    trpc.chat.rooms.join.mutationOptions({ onSuccess: () => navigate(`/rooms/${room.id}`) }),
  );
  const preview = room.lastMessage?.content;
  return (
    <li className="room-row">
      <div>
        <Link to={`/rooms/${room.id}`} className="room-name">
          {room.name}
        </Link>
        {room.isPrivate && <span className="tag">private</span>}
        {room.unreadCount > 0 && (
          <span className="badge">
            {room.unreadCount}
            <span className="visually-hidden"> unread</span>
          </span>
        )}
        <p className="muted">
          {room.memberCount} {room.memberCount === 1 ? "member" : "members"}
          {preview ? ` · ${preview.length > 80 ? `${preview.slice(0, 80)}…` : preview}` : ""}
        </p>
      </div>
      {!room.myRole && (
        <button type="button" onClick={() => join.mutate({ roomId: room.id })} disabled={join.isPending}>
          Join <span className="visually-hidden">{room.name}</span>
        </button>
      )}
    </li>
  );
}

function CreateRoomForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useFocusFirstInvalid(errors);
  const create = useMutation(
    trpc.chat.rooms.create.mutationOptions({
      onSuccess: async (room) => {
        await queryClient.invalidateQueries({ queryKey: trpc.chat.rooms.list.pathKey() });
        navigate(`/rooms/${room.id}`);
      },
      onError: (error) => setErrors(serverErrors(error)),
    }),
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const values = formValues(event.currentTarget);
    const result = validate(createRoomInput, { ...values, isPrivate: values.isPrivate === "on" });
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    create.mutate(result.data);
  };
  return (
    <section aria-labelledby="create-room-heading">
      <h2 id="create-room-heading">Create a room</h2>
      <form ref={formRef} onSubmit={submit} noValidate className="stack">
        <FormAlert errors={errors} />
        <TextField label="Name" name="name" error={errors.name} />
        <TextAreaField
          label="Description (optional)"
          name="description"
          rows={2}
          error={errors.description}
        />
        <div className="checkbox">
          <input id="room-private" type="checkbox" name="isPrivate" />
          <label htmlFor="room-private">Private: only people you invite can see it</label>
        </div>
        <button type="submit" disabled={create.isPending}>
          Create room
        </button>
      </form>
    </section>
  );
}
