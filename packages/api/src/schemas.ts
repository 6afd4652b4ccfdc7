// The API's input schemas, for its clients (apps/web, apps/cli): the domain owns them, since the
// services' input types derive from them.
export * from "@parley/core/schemas";
