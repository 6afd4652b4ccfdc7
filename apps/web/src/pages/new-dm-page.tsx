import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { navigate } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import type { Me } from "../session.ts";

/** A direct message holds at most ten people, the opener included (chat.dms.open). */
const MAX_OTHERS = 9;
/** Rooms whose members are offered; more would be a request per room for little gain. */
const ROOMS_READ = 30;

interface Person {
  userId: string;
  displayName: string;
  handle: string;
}

/**
 * Starts a direct message (or returns to the one these people already have). The API finds
 * nobody by name or handle, so the people offered are those the user already meets: the members
 * of the rooms they are in, filtered here by name or @handle.
 */
export function NewDmPage({ me }: { me: Me }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const rooms = useQuery(trpc.chat.rooms.list.queryOptions({ limit: 100 }));
  const mine = (rooms.data?.items.filter((room) => room.myRole) ?? []).slice(0, ROOMS_READ);
  const memberLists = useQueries({
    queries: mine.map((room) => ({
      ...trpc.chat.rooms.members.queryOptions({ roomId: room.id }),
      staleTime: 60_000,
    })),
  });
  const people = new Map<string, Person>();
  for (const list of memberLists) {
    for (const member of list.data?.items ?? []) {
      if (member.userId !== me.id) people.set(member.userId, member);
    }
  }
  const everyone = [...people.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
  const loading = rooms.isPending || memberLists.some((list) => list.isPending);

  const [filter, setFilter] = useState("");
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const needle = filter.trim().replace(/^@/, "").toLowerCase();
  const shown = everyone.filter(
    (person) =>
      chosen.has(person.userId) ||
      person.handle.startsWith(needle) ||
      person.displayName.toLowerCase().includes(needle),
  );

  const open = useMutation(
    trpc.chat.dms.open.mutationOptions({
      onSuccess: async (dm) => {
        await queryClient.invalidateQueries({ queryKey: trpc.chat.dms.list.pathKey() });
        navigate(`/rooms/${dm.id}`);
      },
      onError: (e) => setError(serverErrors(e).userIds ?? serverErrors(e)[""] ?? "Not opened."),
    }),
  );
  const toggle = (userId: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(userId);
    else next.delete(userId);
    setChosen(next);
    setError(null);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (chosen.size === 0) return setError("Choose at least one person.");
    if (chosen.size > MAX_OTHERS)
      return setError(`A conversation holds at most ${MAX_OTHERS} people besides you.`);
    open.mutate({ userIds: [...chosen] });
  };

  return (
    <Page title="New direct message">
      <p className="muted">
        People from the rooms you are in. Choose one, or up to {MAX_OTHERS} for a group.
      </p>
      <form onSubmit={submit} noValidate className="new-dm">
        <label htmlFor="dm-filter">Find by name or @handle</label>
        <input
          id="dm-filter"
          type="search"
          value={filter}
          autoComplete="off"
          onChange={(e) => setFilter(e.target.value)}
        />
        <fieldset>
          <legend>People</legend>
          {loading && <p>Loading…</p>}
          {!loading && everyone.length === 0 && (
            <p>Nobody yet: join a room, and its members can be messaged from here.</p>
          )}
          {!loading && everyone.length > 0 && shown.length === 0 && <p>Nobody matches “{filter}”.</p>}
          <ul className="people-list">
            {shown.map((person) => (
              <li key={person.userId} className="checkbox">
                <input
                  id={`dm-${person.userId}`}
                  type="checkbox"
                  checked={chosen.has(person.userId)}
                  onChange={(e) => toggle(person.userId, e.target.checked)}
                />
                <label htmlFor={`dm-${person.userId}`}>
                  {person.displayName} <span className="muted">@{person.handle}</span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        {error && (
          <p role="alert" className="form-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={open.isPending}>
          {chosen.size > 1 ? `Open a conversation with ${chosen.size} people` : "Open conversation"}
        </button>
      </form>
    </Page>
  );
}
