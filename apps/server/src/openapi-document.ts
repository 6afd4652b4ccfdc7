import type { AnyRouter } from "@trpc/server";
import { generateOpenApiDocument, type OpenAPIObject, type OpenApiRouter } from "trpc-to-openapi";

type SchemaOrReference = NonNullable<NonNullable<OpenAPIObject["components"]>["schemas"]>[string];

// What an error body holds besides message and code: the tRPC error data our error formatter
// builds, with the field errors a form shows next to its fields.
const errorData: SchemaOrReference = {
  type: "object",
  properties: {
    code: { type: "string" },
    httpStatus: { type: "integer" },
    requestId: { type: ["string", "null"] },
    retryAfterMs: {
      type: ["integer", "null"],
      description: "For TOO_MANY_REQUESTS: how long to wait before trying again",
    },
    zodError: {
      description: "For invalid input: the problems, keyed by input field",
      oneOf: [
        { type: "null" },
        {
          type: "object",
          properties: {
            formErrors: { type: "array", items: { type: "string" } },
            fieldErrors: {
              type: "object",
              additionalProperties: { type: "array", items: { type: "string" } },
            },
          },
          required: ["formErrors", "fieldErrors"],
        },
      ],
    },
  },
};

// For invalid input, zod's issues: each has a message, a path and more (code, expected, …).
const zodIssues: SchemaOrReference = {
  description: "For invalid input: zod's issues, each with the path of the field it concerns",
  type: "array",
  items: {
    type: "object",
    properties: {
      message: { type: "string" },
      code: { type: "string" },
      path: { type: "array", items: { type: ["string", "number"] } },
    },
    required: ["message"],
  },
};

/**
 * trpc-to-openapi documents error bodies as exactly {message, code, issues}; ours also carry
 * `data` (field errors, request id, retry hint) and zod's issues have more than a message, so
 * the document says so.
 */
function describeErrorBodies(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) {
    if (!name.startsWith("error.") || "$ref" in schema) continue;
    const { additionalProperties: _closed, ...open } = schema;
    schemas[name] = { ...open, properties: { ...open.properties, issues: zodIssues, data: errorData } };
  }
  return document;
}

/**
 * trpc-to-openapi leaves `security` out of the doors anyone may call; the document says so
 * explicitly (`[]`: no authentication), as linters require of every operation.
 */
function declarePublicDoors(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of ["get", "post", "put", "patch", "delete"] as const) {
      const operation = item?.[method];
      if (operation && operation.security === undefined) operation.security = [];
    }
  }
  return document;
}

/** What a document says of itself, and where its doors are (relative to where it is served). */
export interface OpenApiDocumentInfo {
  description: string;
  baseUrl: string;
  version: string;
  /** Doors served beside the procedures' (the Server-Sent Events of /api/v1). */
  paths?: NonNullable<Parameters<typeof generateOpenApiDocument>[1]["paths"]>;
}

// The document of /api (the lead forms); /api/v1 passes its own (rest-v1.ts).
const formsDocument: OpenApiDocumentInfo = {
  description:
    "The lead forms over plain JSON for sites that do not use the TypeScript client. The same procedures as `forms.contact.submit` and `forms.demo.submit` over tRPC: same validation, same rate limits.",
  // Relative to where the document is served: right behind any proxy or host name.
  baseUrl: "/api",
  version: "1.0.0",
};

/** The OpenAPI 3.1 document of the procedures that carry `meta.openapi`, served under /api. */
export function createOpenApiDocument(
  router: AnyRouter,
  info: OpenApiDocumentInfo = formsDocument,
): OpenAPIObject {
  return declarePublicDoors(
    describeErrorBodies(
      generateOpenApiDocument(router as OpenApiRouter, {
        title: "Parley REST API",
        description: info.description,
        version: info.version,
        baseUrl: info.baseUrl,
        paths: info.paths,
      }),
    ),
  );
}
