// graphql-codegen, client preset, over the committed SDL and the README's examples plus this project's own
// operations. KB_PROJECT is the repository (tests/test_clients.py sets it: this project runs from a cache folder).
//
// `persistedDocuments` writes the trusted-documents manifest, src/gql/persisted-documents.json: a JSON object from
// each operation's SHA-256 (hex) to its text, which the server loads with TRUSTED_DOCUMENTS. Each generated
// document carries its hash (`__meta__.hash`), which the clients send as `documentId` (src/trusted.ts).
// `__typename` is added to every selection set first, as Apollo Client and urql add it to what they ask for,
// so the documents the server runs are the ones the clients' caches expect.
import { addTypenameSelectionDocumentTransform, type ClientPresetConfig } from "@graphql-codegen/client-preset";
import type { CodegenConfig } from "@graphql-codegen/cli";

const project = process.env.KB_PROJECT ?? "..";

const presetConfig: ClientPresetConfig = {
  persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: "sha256" },
};

const config: CodegenConfig = {
  schema: `${project}/schema.graphql`,
  documents: [`${project}/app/examples/*.graphql`, "src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false, // imports with .js, as Node's ESM resolution wants
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig,
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        scalars: { Date: "string" }, // ISO 8601 full-date (`@specifiedBy` in the SDL)
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
