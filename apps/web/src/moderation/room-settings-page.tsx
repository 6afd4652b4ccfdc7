import type { RouterOutputs } from "@parley/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { dateTime } from "../admin/labels.ts";
import { Outcome, type OutcomeState } from "../admin/outcome.tsx";
import { TableScroll } from "../admin/table-scroll.tsx";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import type { Me } from "../session.ts";

type Member = RouterOutputs["chat"]["rooms"]["members"]["items"][number];

/**
 * A room's settings for its owner and moderators: members and roles (the owner promotes,
 * demotes and transfers), mutes and bans with an expiry, and the room's blocked words.
 */
export function RoomSettingsPage({ roomId, me }: { roomId: string; me: Me }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<OutcomeState>(null);
  const room = useQuery(trpc.chat.rooms.get.queryOptions({ roomId }));
  const members = useQuery(trpc.chat.rooms.members.queryOptions({ roomId }));
  const moderating =
    room.data?.myRole === "owner" || room.data?.myRole === "moderator" || me.role === "admin";
  const restrictions = useQuery({
    ...trpc.chat.moderation.restrictions.queryOptions({ roomId }),
    enabled: moderating,
  });
  const words = useQuery({
    ...trpc.chat.moderation.blocklist.list.queryOptions({ roomId }),
    enabled: moderating,
  });
  const refresh = async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.chat.rooms.pathKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.chat.moderation.pathKey() }),
    ]);
  };
  const handlers = (ok: string) => ({
    onSuccess: async () => {
      setOutcome({ ok });
      await refresh();
    },
    onError: (error: unknown) => setOutcome({ error: Object.values(serverErrors(error))[0] ?? "Not done." }),
  });
  const setRole = useMutation(trpc.chat.moderation.setRole.mutationOptions(handlers("Role changed.")));
  const transfer = useMutation(
    trpc.chat.moderation.transferOwnership.mutationOptions(handlers("Ownership transferred.")),
  );
  const mute = useMutation(trpc.chat.moderation.mute.mutationOptions(handlers("Muted.")));
  const ban = useMutation(trpc.chat.moderation.ban.mutationOptions(handlers("Banned.")));
  const unmute = useMutation(trpc.chat.moderation.unmute.mutationOptions(handlers("Mute lifted.")));
  const unban = useMutation(trpc.chat.moderation.unban.mutationOptions(handlers("Ban lifted.")));
  const addWord = useMutation(trpc.chat.moderation.blocklist.add.mutationOptions(handlers("Word blocked.")));
  const removeWord = useMutation(
    trpc.chat.moderation.blocklist.remove.mutationOptions(handlers("Word unblocked.")),
  );

  if (room.isError) return <Page title="Room settings">{serverErrors(room.error)[""]}</Page>;
  if (!room.data) return <p>Loading…</p>;
  const owner = room.data.myRole === "owner" || me.role === "admin";
  const title = `${room.data.name}: settings`;
  if (!moderating) {
    return (
      <Page title={title}>
        <p>Only the room's owner and moderators see its settings.</p>
      </Page>
    );
  }
  const others = (members.data?.items ?? []).filter((m) => m.userId !== me.id);

  return (
    <Page title={title} actions={<Link to={`/rooms/${roomId}`}>Back to the room</Link>}>
      <Outcome outcome={outcome} />
      <section aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <TableScroll captionId="members-caption">
          <table>
            <caption id="members-caption" className="visually-hidden">
              Members and their roles
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(members.data?.items ?? []).map((member: Member) => (
                <tr key={member.userId}>
                  <td>{member.displayName}</td>
                  <td>{member.role}</td>
                  <td>
                    {owner && member.role !== "owner" && (
                      <div className="cell-actions">
                        <button
                          type="button"
                          className="secondary"
                          onClick={() =>
                            setRole.mutate({
                              roomId,
                              userId: member.userId,
                              role: member.role === "moderator" ? "member" : "moderator",
                            })
                          }
                        >
                          {member.role === "moderator" ? "Demote" : "Make moderator"}
                          <span className="visually-hidden">: {member.displayName}</span>
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => {
                            if (window.confirm(`Make ${member.displayName} the owner of this room?`)) {
                              transfer.mutate({ roomId, userId: member.userId });
                            }
                          }}
                        >
                          Transfer ownership<span className="visually-hidden"> to {member.displayName}</span>
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </section>

      <section aria-labelledby="sanctions-heading">
        <h2 id="sanctions-heading">Mutes and bans</h2>
        <SanctionForm
          members={others}
          busy={mute.isPending || ban.isPending}
          onSubmit={(kind, userId, durationMinutes) =>
            (kind === "mute" ? mute : ban).mutate({ roomId, userId, durationMinutes })
          }
        />
        {(restrictions.data?.items ?? []).length === 0 ? (
          <p>Nobody is muted or banned.</p>
        ) : (
          <ul>
            {(restrictions.data?.items ?? []).map((r) => (
              <li key={`${r.kind}-${r.userId}`}>
                {r.displayName}: {r.kind === "mute" ? "muted" : "banned"}{" "}
                {r.expiresAt ? `until ${dateTime.format(new Date(r.expiresAt))}` : "until lifted"}{" "}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => (r.kind === "mute" ? unmute : unban).mutate({ roomId, userId: r.userId })}
                >
                  Lift
                  <span className="visually-hidden">
                    {" "}
                    the {r.kind} of {r.displayName}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="blocklist-heading">
        <h2 id="blocklist-heading">Blocked words</h2>
        <WordForm busy={addWord.isPending} onSubmit={(word) => addWord.mutate({ roomId, word })} />
        {(words.data?.items ?? []).length === 0 ? (
          <p>No blocked words in this room.</p>
        ) : (
          <ul>
            {(words.data?.items ?? []).map((w) => (
              <li key={w.word}>
                {w.word}{" "}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => removeWord.mutate({ roomId, word: w.word })}
                >
                  Remove<span className="visually-hidden"> {w.word}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <p>
        <Link to={`/rooms/${roomId}/reports`}>This room's reports</Link>
        {" · "}
        <Link to="/moderation/reports">Reports in every room you moderate</Link>
      </p>
    </Page>
  );
}

function SanctionForm({
  members,
  busy,
  onSubmit,
}: {
  members: Member[];
  busy: boolean;
  onSubmit: (kind: "mute" | "ban", userId: string, durationMinutes: number | undefined) => void;
}) {
  const [userId, setUserId] = useState("");
  const [kind, setKind] = useState<"mute" | "ban">("mute");
  const [minutes, setMinutes] = useState("60");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!userId) return;
    const duration = Number.parseInt(minutes, 10);
    onSubmit(kind, userId, Number.isFinite(duration) && duration > 0 ? duration : undefined);
  };
  return (
    <form onSubmit={submit} className="inline-form" noValidate>
      <label htmlFor="sanction-user">Member</label>
      <select id="sanction-user" value={userId} onChange={(e) => setUserId(e.target.value)}>
        <option value="">Choose…</option>
        {members.map((m) => (
          <option key={m.userId} value={m.userId}>
            {m.displayName}
          </option>
        ))}
      </select>
      <label htmlFor="sanction-kind">Sanction</label>
      <select
        id="sanction-kind"
        value={kind}
        onChange={(e) => setKind(e.target.value === "ban" ? "ban" : "mute")}
      >
        <option value="mute">Mute</option>
        <option value="ban">Ban</option>
      </select>
      <label htmlFor="sanction-minutes">Minutes (empty: until lifted)</label>
      <input
        id="sanction-minutes"
        inputMode="numeric"
        value={minutes}
        onChange={(e) => setMinutes(e.target.value)}
      />
      <button type="submit" disabled={busy || !userId}>
        Apply
      </button>
    </form>
  );
}

function WordForm({ busy, onSubmit }: { busy: boolean; onSubmit: (word: string) => void }) {
  const [word, setWord] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!word.trim()) return;
    onSubmit(word.trim());
    setWord("");
  };
  return (
    <form onSubmit={submit} className="inline-form" noValidate>
      <label htmlFor="blocked-word">Word or phrase</label>
      <input id="blocked-word" value={word} maxLength={64} onChange={(e) => setWord(e.target.value)} />
      <button type="submit" disabled={busy}>
        Block
      </button>
    </form>
  );
}
