import type {
  AnyTRPCMutationProcedure,
  AnyTRPCProcedure,
  AnyTRPCQueryProcedure,
  AnyTRPCRouter,
  AnyTRPCSubscriptionProcedure,
} from "@trpc/server";

/** A built router carries its procedures and sub-routers as properties beside its own two. */
type OwnKeys<T> = Exclude<keyof T, keyof AnyTRPCRouter> & string;

type PathsOf<TRecord, TProcedure, TPrefix extends string> = {
  [K in OwnKeys<TRecord>]: TRecord[K] extends AnyTRPCProcedure
    ? TRecord[K] extends TProcedure
      ? `${TPrefix}${K}`
      : never
    : PathsOf<TRecord[K], TProcedure, `${TPrefix}${K}.`>;
}[OwnKeys<TRecord>];

/** The dotted paths of a router's subscriptions (`"chat.events" | "chat.presence"` for AppRouter). */
export type SubscriptionPath<TRouter extends AnyTRPCRouter> = PathsOf<
  TRouter,
  AnyTRPCSubscriptionProcedure,
  ""
>;
/** The dotted paths of a router's mutations. */
export type MutationPath<TRouter extends AnyTRPCRouter> = PathsOf<TRouter, AnyTRPCMutationProcedure, "">;
/** The dotted paths of a router's queries. */
export type QueryPath<TRouter extends AnyTRPCRouter> = PathsOf<TRouter, AnyTRPCQueryProcedure, "">;
