// This project's own operations: graphql() is typed by codegen (src/gql/, generated, never committed).
import { graphql } from "./gql/index.js";

// The shape Apollo's relayStylePagination merges: `edges { cursor node }` and `pageInfo`.
export const OrganizationsPage = graphql(`
  query OrganizationsPage($first: Int!, $after: String) {
    organizations(first: $first, after: $after, orderBy: { field: NAME, direction: ASC }) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id slug name acronym } }
    }
  }
`);

export const OrganizationBySlug = graphql(`
  query OrganizationBySlug($slug: String!) {
    organization(slug: $slug) {
      id
      name
      acronym
      memberships(first: 3) { nodes { id status startDate { edtf earliest } member { id code name } } }
    }
  }
`);

// A variable of the wrong type, for the error case: the server answers 400 with BAD_USER_INPUT.
export const PagedEvents = graphql(`
  query PagedEvents($first: Int!) {
    events(first: $first) { nodes { id title } }
  }
`);
