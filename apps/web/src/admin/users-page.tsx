import { listUsersInput } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { serverErrors, validate } from "../forms/field-errors.ts";
import { SearchForm } from "../forms/search-form.tsx";
import { navigate } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { useMe } from "../session.ts";
import { ForbiddenPage, isForbidden } from "./forbidden-page.tsx";
import { dateTime } from "./labels.ts";
import { Outcome, type OutcomeState } from "./outcome.tsx";
import { TableScroll } from "./table-scroll.tsx";

type User = RouterOutputs["admin"]["users"]["list"]["items"][number];

/** Every account, found by part of its name or email (in the URL: ?search=), and its role. */
export function UsersPage({ search }: { search: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useMe();
  const [searchError, setSearchError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<OutcomeState>(null);
  const users = useInfiniteQuery(
    trpc.admin.users.list.infiniteQueryOptions(search ? { search } : {}, {
      getNextPageParam: (page) => page.nextCursor ?? undefined,
    }),
  );
  const setRole = useMutation(
    trpc.admin.users.setRole.mutationOptions({
      onSuccess: async (user) => {
        setOutcome({
          ok: `${user.displayName} is now ${user.role === "admin" ? "an admin" : "a user without admin rights"}.`,
        });
        await queryClient.invalidateQueries({ queryKey: trpc.admin.users.list.pathKey() });
        // Demoting oneself ends one's own access: the user is read again and the page follows.
        if (user.id === me?.id) await queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() });
      },
      onError: (error) => {
        const errors = serverErrors(error);
        setOutcome({ error: errors[""] ?? Object.values(errors)[0] ?? "The role was not changed." });
      },
    }),
  );
  const items = users.data?.pages.flatMap((page) => page.items) ?? [];

  if (isForbidden(users.error)) return <ForbiddenPage />;

  const searchFor = (text: string) => {
    const result = validate(listUsersInput, { search: text });
    if ("errors" in result) return setSearchError(result.errors.search ?? "Cannot search for that.");
    setSearchError(null);
    const wanted = result.data?.search ?? "";
    navigate(wanted ? `/admin/users?search=${encodeURIComponent(wanted)}` : "/admin/users");
  };

  const change = (user: User) => {
    const role = user.role === "admin" ? "user" : "admin";
    if (
      user.id === me?.id &&
      !window.confirm("Remove your own admin role? You will no longer see the admin pages.")
    ) {
      return;
    }
    setOutcome(null);
    setRole.mutate({ userId: user.id, role });
  };

  return (
    <Page title="Users">
      <SearchForm
        label="Name or email"
        name="search"
        value={search}
        error={searchError}
        onSearch={searchFor}
      />
      <Outcome outcome={outcome} />
      {users.isPending && <p>Loading…</p>}
      {users.isError && <p className="form-error">{serverErrors(users.error)[""]}</p>}
      {users.isSuccess && items.length === 0 && (
        <p>{search ? `Nobody's name or email contains “${search}”.` : "No users yet."}</p>
      )}
      {items.length > 0 && (
        <TableScroll captionId="users-caption">
          <table>
            <caption id="users-caption" className="visually-hidden">
              Users, newest first
            </caption>
            {/* Name and role (with its button) first: on a phone they are in view without scrolling. */}
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Email</th>
                <th scope="col">Email verified</th>
                <th scope="col">Joined</th>
              </tr>
            </thead>
            <tbody>
              {items.map((user) => (
                <tr key={user.id}>
                  <td>
                    {user.displayName}
                    {user.id === me?.id && <span className="muted"> (you)</span>}
                  </td>
                  <td>
                    <div className="cell-actions">
                      <span className={`status role-${user.role}`}>{user.role}</span>
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => change(user)}
                        disabled={setRole.isPending}
                      >
                        {user.role === "admin" ? "Remove admin" : "Make admin"}
                        <span className="visually-hidden">: {user.displayName}</span>
                      </button>
                    </div>
                  </td>
                  <td className="wrap">{user.email}</td>
                  <td>{user.emailVerified ? "yes" : "no"}</td>
                  <td>{dateTime.format(new Date(user.createdAt))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {users.hasNextPage && (
        <button type="button" onClick={() => users.fetchNextPage()} disabled={users.isFetchingNextPage}>
          More
        </button>
      )}
    </Page>
  );
}
