// Relay against the trusted-documents server: relay-compiler's artifacts carry only a
// document id (persistConfig), the operator registered relay-compiler's documents file with
// `hypernet documents add`, and the network layer sends `documentId`. The @connection and
// the @refetchable pagination query page the library forwards and backwards as
// usePaginationFragment would (fetch the next page, the connection handler merges it).
import {
  Environment,
  Network,
  RecordSource,
  Store,
  fetchQuery,
  getSelector,
  type GraphQLResponse,
  type RequestParameters,
  type SingularReaderSelector,
  type Variables,
} from 'relay-runtime';

import { type Env, type Suite, equal, ok } from './check.js';
import LibraryMediaPaginationQuery, {
  type LibraryMediaPaginationQuery as Pagination,
} from './relay/__generated__/LibraryMediaPaginationQuery.graphql.js';
import LibraryMediaFragment, { type LibraryMedia_user$data } from './relay/__generated__/LibraryMedia_user.graphql.js';
import LibraryQuery, { type LibraryQuery as Library } from './relay/__generated__/LibraryQuery.graphql.js';

function environment(url: string, token: string, sent: string[]): Environment {
  const network = Network.create(async (params: RequestParameters, variables: Variables): Promise<GraphQLResponse> => {
    ok(params.id && params.text === null, `${params.name} is persisted: the artifact holds only its id`);
    sent.push(params.id);
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ documentId: params.id, variables }),
    });
    const body = (await res.json()) as GraphQLResponse & { errors?: unknown[] };
    ok(res.ok && !body.errors, `${params.name}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  });
  return new Environment({ network, store: new Store(new RecordSource()) });
}

/** The library as the fragment reads it from the store, connection merged. */
function read(env: Environment, viewer: unknown): LibraryMedia_user$data {
  const selector = getSelector(LibraryMediaFragment, viewer as never) as SingularReaderSelector;
  return env.lookup(selector).data as unknown as LibraryMedia_user$data;
}

const ids = (library: LibraryMedia_user$data) => library.media.edges.map((e) => e.node.id);

export async function relay(env: Env, suite: Suite, expected: string[]): Promise<void> {
  await suite.check('relay pages a @connection forwards with its @refetchable query, by document id', async () => {
    const sent: string[] = [];
    const relayEnv = environment(env.trustedUrl, env.annToken, sent);
    const root = await fetchQuery<Library>(relayEnv, LibraryQuery, { first: 2 }).toPromise();
    ok(root, 'an answer');
    let library = read(relayEnv, root.viewer);
    equal(ids(library), expected.slice(0, 2), 'first page');
    equal(library.media.totalCount, expected.length, 'totalCount');
    equal(library.email, 'ann@example.com', 'the viewer');
    while (ids(library).length < expected.length) {
      const before = ids(library).length;
      ok(library.media.pageInfo.hasNextPage, 'more to come');
      const after = library.media.pageInfo.endCursor;
      await fetchQuery<Pagination>(relayEnv, LibraryMediaPaginationQuery, { id: root.viewer.id, first: 2, after }).toPromise();
      library = read(relayEnv, root.viewer);
      ok(ids(library).length > before, 'the next page was merged');
    }
    equal(ids(library), expected, 'every media once, in order');
    equal(library.media.pageInfo.hasNextPage, false, 'the end');
    equal(new Set(sent).size, 2, 'two documents: the query and its pagination query');
  });

  await suite.check('relay pages the same @connection backwards', async () => {
    const relayEnv = environment(env.trustedUrl, env.annToken, []);
    const root = await fetchQuery<Library>(relayEnv, LibraryQuery, { last: 2 }).toPromise();
    ok(root, 'an answer');
    let library = read(relayEnv, root.viewer);
    equal(ids(library), expected.slice(-2), 'last page');
    while (ids(library).length < expected.length) {
      ok(library.media.pageInfo.hasPreviousPage, 'more before');
      const before = library.media.pageInfo.startCursor;
      await fetchQuery<Pagination>(relayEnv, LibraryMediaPaginationQuery, { id: root.viewer.id, last: 2, before }).toPromise();
      library = read(relayEnv, root.viewer);
    }
    equal(ids(library), expected, 'every media once, in order');
  });

  await suite.check('the trusted server refuses text it was not given, and another user\'s id', async () => {
    const res = await fetch(`${env.trustedUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.annToken}` },
      body: JSON.stringify({ query: '{ viewer { email } }' }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    equal(body.errors?.[0]?.extensions?.code, 'TRUSTED_DOCUMENT_REQUIRED', 'free text');
    // Bob runs the same persisted pagination query on Ann's user id: nothing of hers.
    const bobEnv = environment(env.trustedUrl, env.bobToken, []);
    const ann = await fetchQuery<Library>(environment(env.trustedUrl, env.annToken, []), LibraryQuery, { first: 1 }).toPromise();
    ok(ann, 'ann');
    const stolen = await fetchQuery<Pagination>(bobEnv, LibraryMediaPaginationQuery, { id: ann.viewer.id, first: 10 }).toPromise();
    equal(stolen?.node ?? null, null, 'node(id:) of another user');
  });
}
