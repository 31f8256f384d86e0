// graphql-codegen, client preset, over the committed SDL and the README's examples plus this project's own
// operations. KB_PROJECT is the repository (tests/test_clients.py sets it: this project runs from a cache folder).
import type { CodegenConfig } from "@graphql-codegen/cli";

const project = process.env.KB_PROJECT ?? "..";

const config: CodegenConfig = {
  schema: `${project}/schema.graphql`,
  documents: [`${project}/app/examples/*.graphql`, "src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false, // imports with .js, as Node's ESM resolution wants
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        scalars: { Date: "string" }, // ISO 8601 full-date (`@specifiedBy` in the SDL)
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
