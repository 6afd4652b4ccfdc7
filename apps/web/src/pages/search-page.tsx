import { searchMessagesInput } from "@parley/api/schemas";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { serverErrors, validate } from "../forms/field-errors.ts";
import { SearchForm } from "../forms/search-form.tsx";
import { Link, navigate } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Full-text search over every room the user may read; the query lives in the URL (?q=). */
export function SearchPage({ query }: { query: string }) {
  const trpc = useTRPC();
  const [error, setError] = useState<string | null>(null);
  const results = useInfiniteQuery(
    trpc.chat.messages.search.infiniteQueryOptions(
      { query },
      { enabled: query.trim() !== "", getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = results.data?.pages.flatMap((page) => page.items) ?? [];

  const searchFor = (q: string) => {
    const result = validate(searchMessagesInput, { query: q });
    if ("errors" in result) return setError(result.errors.query ?? "Cannot search for that.");
    setError(null);
    navigate(`/search?q=${encodeURIComponent(result.data.query)}`);
  };

  return (
    <Page title="Search messages">
      <SearchForm label="Words to find" name="q" value={query} error={error} onSearch={searchFor} />
      <div role="status">
        {results.isFetching && !results.isFetchingNextPage && <p>Searching…</p>}
        {results.isSuccess && (
          <p>
            {items.length === 0
              ? "No messages match."
              : `${items.length}${results.hasNextPage ? "+" : ""} found.`}
          </p>
        )}
      </div>
      {results.isError && <p className="form-error">{serverErrors(results.error)[""]}</p>}
      <ol className="search-results">
        {items.map((message) => (
          <li key={message.id}>
            <p className="message-meta">
              <Link to={`/rooms/${message.roomId}`}>{message.roomName}</Link> ·{" "}
              <strong>{message.authorName}</strong> ·{" "}
              <time dateTime={message.createdAt}>{dateFormat.format(new Date(message.createdAt))}</time>
            </p>
            <p className="message-body">{message.content}</p>
          </li>
        ))}
      </ol>
      {results.hasNextPage && (
        <button type="button" onClick={() => results.fetchNextPage()} disabled={results.isFetchingNextPage}>
          More results
        </button>
      )}
    </Page>
  );
}
