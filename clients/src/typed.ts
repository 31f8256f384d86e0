// Typed code over the generated types: `tsc --noEmit` fails if the schema, the examples and this code disagree.
import type { ResultOf, VariablesOf } from "@graphql-typed-document-node/core";
import type { NestedQuery, OrganizationQuery, OrganizationQueryVariables, DatePrecision } from "./gql/graphql.js";
import { OrganizationBySlug, OrganizationsPage } from "./operations.js";

export function membershipYears(data: ResultOf<typeof OrganizationBySlug>): string[] {
  const nodes = data.organization?.memberships.nodes ?? [];
  // `earliest` is the Date scalar, mapped to string by codegen.ts.
  return nodes.map((m) => `${m.member.code}: ${m.startDate?.earliest?.slice(0, 4) ?? "unknown"}`);
}

export function firstPageVariables(): VariablesOf<typeof OrganizationsPage> {
  return { first: 5, after: null };
}

export function eventTitles(data: NestedQuery): string[] {
  return data.organizations.nodes.flatMap((o) => o.events.nodes.map((e) => `${o.id} ${e.id} ${e.title}`));
}

export const variables: OrganizationQueryVariables = { slug: "escap" };

export function precisionOf(data: OrganizationQuery): DatePrecision | undefined {
  return data.organization?.memberships.nodes[0]?.startDate?.precision;
}
