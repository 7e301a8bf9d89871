// Live updates through real clients: graphql-ws against /graphql/ws (subscribe, receive a
// change made over HTTP, resume from the last cursor with exactly what was missed), Apollo
// Client's GraphQLWsLink updating its normalised cache from an event, and a second user
// whose subscription receives nothing of the first user's.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';

import { type Env, type Suite, equal, ok } from './check.js';
import { graphql } from './gql/index.js';

const Changes = graphql(`
  subscription ClientChanges($after: String, $types: [ChangeObjectType!]) {
    changes(after: $after, types: $types) {
      cursor
      node {
        kind
        objectType
        objectId
        fields
        object { __typename id ... on Album { name } }
      }
    }
  }
`);

const Rename = graphql(`
  mutation ClientRenameAlbum($id: ID!, $name: String!) {
    updateAlbum(input: { id: $id, name: $name }) { album { id name } }
  }
`);

interface Event {
  cursor: string;
  node: { kind: string; objectType: string | null; objectId: string; fields: string[]; object: { __typename: string; id: string; name?: string } | null };
}

async function post(env: Env, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${env.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function wsClient(env: Env, token: string): Client {
  return createClient({
    url: `${env.url.replace(/^http/, 'ws')}/graphql/ws`,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

/** Collects the events of one subscription; `next(n)` waits for the first `n`. */
class Collector {
  readonly events: Event[] = [];
  readonly errors: unknown[] = [];
  private waiters: (() => void)[] = [];
  readonly stop: () => void;

  constructor(client: Client, variables: Record<string, unknown>) {
    this.stop = client.subscribe<{ changes: Event }>(
      { query: print(Changes), variables },
      {
        next: (result) => {
          if (result.errors) this.errors.push(result.errors);
          if (result.data) this.events.push(result.data.changes);
          this.waiters.splice(0).forEach((wake) => wake());
        },
        error: (err) => {
          this.errors.push(err);
          this.waiters.splice(0).forEach((wake) => wake());
        },
        complete: () => {},
      },
    );
  }

  async next(n: number, ms = 10_000): Promise<Event[]> {
    const deadline = Date.now() + ms;
    while (this.events.length < n && this.errors.length === 0) {
      const left = deadline - Date.now();
      ok(left > 0, `${n} events within ${ms} ms (got ${this.events.length})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
    equal(this.errors, [], 'errors');
    return this.events.slice(0, n);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function subscriptions(env: Env, suite: Suite): Promise<void> {
  const ann = wsClient(env, env.annToken);
  const bob = wsClient(env, env.bobToken);
  let albumId = '';
  let lastCursor = '';
  let bobs: Collector | undefined;

  await suite.check('graphql-ws: a change made over HTTP arrives on the subscription', async () => {
    const start = (await post(env, env.annToken, '{ viewer { changeCursor } }')).viewer.changeCursor as string;
    bobs = new Collector(bob, {});
    const live = new Collector(ann, { after: start, types: ['ALBUM'] });
    await sleep(300);
    const created = await post(env, env.annToken, 'mutation { createAlbum(input: { name: "Live" }) { album { id } } }');
    albumId = created.createAlbum.album.id;
    const [event] = await live.next(1);
    equal(event!.node.kind, 'CREATED', 'kind');
    equal(event!.node.objectId, albumId, 'the album');
    equal(event!.node.object, { __typename: 'Album', id: albumId, name: 'Live' }, 'the album as it is');
    lastCursor = event!.cursor;
    live.stop();
  });

  await suite.check('graphql-ws: resuming from the last cursor brings exactly what was missed', async () => {
    ok(lastCursor, 'the previous check left a cursor');
    for (const name of ['Missed 1', 'Missed 2']) {
      await post(env, env.annToken, 'mutation($id: ID!, $name: String!) { updateAlbum(input: { id: $id, name: $name }) { album { id } } }', { id: albumId, name });
    }
    const resumed = new Collector(ann, { after: lastCursor, types: ['ALBUM'] });
    const missed = await resumed.next(2);
    equal(missed.map((e) => [e.node.kind, e.node.fields]), [['UPDATED', ['name']], ['UPDATED', ['name']]], 'the missed renames');
    equal(missed[1]!.node.object?.name, 'Missed 2', 'the album as it is now');
    await sleep(500);
    equal(resumed.events.length, 2, 'nothing more than what was missed');
    resumed.stop();
  });

  await suite.check('Apollo Client: a GraphQLWsLink subscription updates the normalised cache', async () => {
    const http = new HttpLink({ uri: `${env.url}/graphql`, headers: { authorization: `Bearer ${env.annToken}` } });
    const link = ApolloLink.split((op) => op.operationType === OperationTypeNode.SUBSCRIPTION, new GraphQLWsLink(ann), http);
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const seen: Event[] = [];
    const failures: unknown[] = [];
    const subscription = client.subscribe({ query: Changes, variables: { types: ['ALBUM'] } }).subscribe({
      next: (result) => {
        if (result.error) failures.push(result.error);
        if (result.data) seen.push(result.data.changes as Event);
      },
      error: (err: unknown) => failures.push(err),
    });
    await sleep(300);
    await client.mutate({ mutation: Rename, variables: { id: albumId, name: 'Through Apollo' } });
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(50);
    subscription.unsubscribe();
    equal(failures.map(String), [], 'errors');
    equal(seen.length, 1, 'one event');
    equal(seen[0]!.node.object?.name, 'Through Apollo', 'the event carries the album');
    const cached = client.cache.extract() as Record<string, { name?: string }>;
    equal(cached[`Album:${albumId}`]?.name, 'Through Apollo', 'the cache holds the album as the event has it');
  });

  await suite.check("graphql-ws: another user's subscription receives nothing of Ann's", async () => {
    ok(bobs, 'Bob subscribed in the first check');
    equal(bobs.events, [], "Bob's events");
    equal(bobs.errors, [], "Bob's errors");
    bobs.stop();
  });

  await ann.dispose();
  await bob.dispose();
}
