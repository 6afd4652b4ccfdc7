import {
  type AppRouter,
  appRouter,
  createRouter,
  type MutationPath,
  publicProcedure,
  type SubscriptionPath,
} from "@parley/api";
import { REALTIME_PATHS } from "@parley/client";
import { describe, expect, it } from "vitest";
import { realtimeProcedures } from "../src/realtime/realtime-procedures.ts";

describe("realtime procedures opt in through their meta", () => {
  it("derives the push path's subscriptions from meta: chat.events", () => {
    const { push } = realtimeProcedures(appRouter);
    expect([...push]).toEqual(["chat.events"] satisfies SubscriptionPath<AppRouter>[]);
  });

  it("keeps @parley/client's REALTIME_PATHS equal to the mutations whose meta opts in", () => {
    const { send } = realtimeProcedures(appRouter);
    expect([...send].sort()).toEqual([...REALTIME_PATHS].sort());
  });

  it("refuses a meta that contradicts the procedure's kind when the server starts", () => {
    const pushedQuery = createRouter({
      q: publicProcedure.meta({ realtime: { push: true } }).query(() => 1),
    });
    expect(() => realtimeProcedures(pushedQuery)).toThrow(
      "q: realtime.push is for subscriptions, not a query",
    );
    const sentSubscription = createRouter({
      s: publicProcedure.meta({ realtime: { send: true } }).subscription(async function* () {}),
    });
    expect(() => realtimeProcedures(sentSubscription)).toThrow(
      "s: realtime.send is for mutations, not a subscription",
    );
  });

  it("types the path sets against AppRouter: a path of another kind or none is a type error", () => {
    const { push, send } = realtimeProcedures(appRouter);
    const subscription: SubscriptionPath<AppRouter> = "chat.presence";
    const mutation: MutationPath<AppRouter> = "chat.messages.send";
    // @ts-expect-error chat.messages.send is a mutation, not a subscription
    const mutationAsSubscription: SubscriptionPath<AppRouter> = "chat.messages.send";
    // @ts-expect-error no such procedure
    const typo: SubscriptionPath<AppRouter> = "chat.event";
    // @ts-expect-error chat.events is a subscription, not a mutation
    const subscriptionAsMutation: MutationPath<AppRouter> = "chat.events";
    // @ts-expect-error a query
    const query: MutationPath<AppRouter> = "chat.rooms.list";
    // @ts-expect-error the push set holds subscriptions only
    push.has("chat.messages.send");
    // @ts-expect-error the send set holds mutations only
    send.has("chat.events");
    // At run time these are plain strings; the checks above are the compiler's (pnpm typecheck).
    expect([
      subscription,
      mutation,
      mutationAsSubscription,
      typo,
      subscriptionAsMutation,
      query,
    ]).toHaveLength(6);
    expect(push.has(subscription)).toBe(false);
    expect(send.has(mutation)).toBe(true);
  });
});
