// The Relay documents of the suite, read by relay-compiler (never run: the `graphql` tag
// works only through the compiler). A paginated library screen: a fragment on User with a
// bidirectional @connection, @refetchable so Relay generates its pagination query over
// `node(id:)`, and the query that spreads it.
import { graphql } from 'relay-runtime';

export const libraryMedia = graphql`
  fragment LibraryMedia_user on User
  @refetchable(queryName: "LibraryMediaPaginationQuery")
  @argumentDefinitions(
    first: { type: "Int" }
    after: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
  ) {
    email
    media(first: $first, after: $after, last: $last, before: $before)
      @connection(key: "LibraryMedia_media") {
      totalCount
      pageInfo {
        startCursor
        endCursor
        hasNextPage
        hasPreviousPage
      }
      edges {
        node {
          id
          filename
          size
          takenAt
          contentUrl
        }
      }
    }
  }
`;

export const libraryQuery = graphql`
  query LibraryQuery($first: Int, $after: String, $last: Int, $before: String) {
    viewer {
      id
      ...LibraryMedia_user @arguments(first: $first, after: $after, last: $last, before: $before)
    }
  }
`;
