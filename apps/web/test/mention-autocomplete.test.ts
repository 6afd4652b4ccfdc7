import { describe, expect, it } from "vitest";
import { mentionAt, mentionOptions } from "../src/room/mention-matching.ts";

const people = [
  { userId: "me", displayName: "Ada Lovelace", handle: "ada" },
  { userId: "b", displayName: "Bob Adams", handle: "bob" },
  { userId: "c", displayName: "Adele", handle: "adele" },
];

describe("the @-autocomplete", () => {
  it("completes only an @word that starts at the beginning or after a space, up to the caret", () => {
    expect(mentionAt("hi @Bo", 6)).toEqual({ start: 3, query: "bo" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    // An address is not a mention; nor is a word the caret has left.
    expect(mentionAt("mail ada@example", 16)).toBeNull();
    expect(mentionAt("hi @bob and", 11)).toBeNull();
    expect(mentionAt("hi @bob and", 7)).toEqual({ start: 3, query: "bob" });
  });

  it("offers handles that start with the query before names that contain it, never the writer", () => {
    expect(mentionOptions(people, "ad", "me").map((p) => p.handle)).toEqual(["adele", "bob"]);
    expect(mentionOptions(people, "", "me").map((p) => p.handle)).toEqual(["bob", "adele"]);
    expect(mentionOptions(people, "zz", "me")).toEqual([]);
  });
});
