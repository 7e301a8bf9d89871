// Apollo Client 4 against the server, with graphql-codegen's typed documents: uploads through
// apollo-upload-client, a nested screen normalised by `__typename:id`, a mutation updating
// the cache, automatic persisted queries over GET, and a second user who sees nothing.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

import { type Env, type Suite, equal, ok, recordingFetch } from './check.js';
import { graphql } from './gql/index.js';

const UploadPhoto = graphql(`
  mutation ApolloUpload($input: UploadMediaInput!) {
    uploadMedia(input: $input) {
      deduplicated
      media { id filename mediaType size width height takenAt takenAtLocal metadata contentUrl }
    }
  }
`);

const CreateAlbum = graphql(`
  mutation ApolloCreateAlbum($name: String!) {
    createAlbum(input: { name: $name }) { album { id name mediaCount } }
  }
`);

const AddToAlbum = graphql(`
  mutation ApolloAddToAlbum($albumId: ID!, $mediaIds: [ID!]!) {
    addMediaToAlbum(input: { albumId: $albumId, mediaIds: $mediaIds }) { album { id mediaCount } }
  }
`);

const RenameAlbum = graphql(`
  mutation ApolloRenameAlbum($id: ID!, $name: String!) {
    updateAlbum(input: { id: $id, name: $name }) { album { id name } }
  }
`);

const Screen = graphql(`
  query ApolloScreen {
    viewer {
      id
      email
      storageUsed
      albums(first: 10) {
        totalCount
        edges {
          cursor
          node {
            id
            name
            mediaCount
            coverMedia { id filename }
            media(first: 10) {
              totalCount
              edges {
                addedAt
                node { id filename size takenAt takenAtLocal contentUrl albums { id name } }
              }
            }
          }
        }
      }
    }
  }
`);

const AlbumById = graphql(`
  query ApolloAlbum($id: ID!) {
    node(id: $id) { id ... on Album { name } }
  }
`);

const Me = graphql(`
  query ApolloMe {
    viewer { id email }
  }
`);

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function client(link: ApolloLink): ApolloClient {
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

function file(path: string, type: string): File {
  return new File([readFileSync(path)], basename(path), { type });
}

/** What the Apollo checks leave behind for the Relay ones. */
export interface Library {
  albumId: string;
  mediaIds: string[];
}

export async function apollo(env: Env, suite: Suite): Promise<Library> {
  const endpoint = `${env.url}/graphql`;
  const auth = { authorization: `Bearer ${env.annToken}` };
  const wire = recordingFetch();
  const ann = client(new UploadHttpLink({ uri: endpoint, headers: auth, fetch: wire.fetch }));
  const library: Library = { albumId: '', mediaIds: [] };

  await suite.check('apollo-upload-client uploads a photo and its EXIF comes back', async () => {
    const photo = file(env.exifPhoto, 'image/jpeg');
    const { data } = await ann.mutate({ mutation: UploadPhoto, variables: { input: { file: photo } } });
    ok(data, 'an answer');
    const media = data.uploadMedia.media;
    equal(data.uploadMedia.deduplicated, false, 'a new photo');
    equal(media.mediaType, 'PHOTO', 'mediaType');
    // BigInt is a JSON number: codegen types it `number`, and it is the file's size.
    const size: number = media.size;
    equal(size, photo.size, 'size');
    equal(media.takenAt, '2024-06-01T10:30:00+00:00', 'takenAt (UTC)');
    equal(media.takenAtLocal, '2024-06-01T12:30:00+02:00', 'takenAtLocal (the camera\'s)');
    const metadata = media.metadata as Record<string, unknown>;
    equal(metadata['make'], 'Apple', 'metadata.make');
    ok(media.contentUrl.startsWith(`${env.url}/media/`), `absolute contentUrl: ${media.contentUrl}`);
    const bytes = Buffer.from(await (await fetch(media.contentUrl)).arrayBuffer());
    ok(bytes.equals(readFileSync(env.exifPhoto)), 'contentUrl serves the uploaded bytes');
    const last = wire.sent[wire.sent.length - 1]!;
    equal(last.body, '[binary]', 'a multipart request');
    library.mediaIds.push(media.id);
    // The same bytes again are the same media.
    const again = await ann.mutate({ mutation: UploadPhoto, variables: { input: { file: file(env.exifPhoto, 'image/jpeg'), filename: 'again.jpg' } } });
    equal(again.data?.uploadMedia.deduplicated, true, 'deduplicated');
    equal(again.data?.uploadMedia.media.id, media.id, 'the same media');
  });

  await suite.check('apollo uploads the library and files it in an album', async () => {
    for (const path of env.photos) {
      const { data } = await ann.mutate({ mutation: UploadPhoto, variables: { input: { file: file(path, 'image/png') } } });
      ok(data, 'an answer');
      library.mediaIds.push(data.uploadMedia.media.id);
    }
    const created = await ann.mutate({ mutation: CreateAlbum, variables: { name: 'Paris' } });
    ok(created.data, 'album created');
    library.albumId = created.data.createAlbum.album.id;
    const added = await ann.mutate({ mutation: AddToAlbum, variables: { albumId: library.albumId, mediaIds: library.mediaIds } });
    equal(added.data?.addMediaToAlbum.album.mediaCount, library.mediaIds.length, 'mediaCount');
  });

  await suite.check('apollo normalises a nested screen by __typename:id and a mutation updates it', async () => {
    const { data } = await ann.query({ query: Screen });
    ok(data, 'an answer');
    const album = data.viewer.albums.edges[0]?.node;
    ok(album, 'the album');
    equal(album.name, 'Paris', 'album name');
    equal(album.media.totalCount, library.mediaIds.length, 'album media');
    const first = album.media.edges[0]?.node;
    ok(first, 'a member');
    equal(first.albums.map((a) => a.id), [library.albumId], 'the member knows its album');
    const cache = ann.cache.extract() as Record<string, Record<string, unknown>>;
    equal(cache['ROOT_QUERY']?.['viewer'], { __ref: `User:${data.viewer.id}` }, 'viewer by reference');
    ok(cache[`Album:${library.albumId}`], 'the album is one normalised record');
    for (const id of library.mediaIds) ok(cache[`Media:${id}`], `Media:${id} normalised`);

    const before = wire.sent.length;
    const renamed = await ann.mutate({ mutation: RenameAlbum, variables: { id: library.albumId, name: 'Paris 2024' } });
    equal(renamed.data?.updateAlbum.album.name, 'Paris 2024', 'renamed');
    equal(wire.sent.length, before + 1, 'one request for the mutation, no refetch');
    const cached = ann.readQuery({ query: Screen });
    equal(cached?.viewer.albums.edges[0]?.node.name, 'Paris 2024', 'the screen reads the new name from the cache');
    const again = await ann.query({ query: Screen, fetchPolicy: 'cache-first' });
    equal(again.data?.viewer.albums.edges[0]?.node.name, 'Paris 2024', 'cache-first answers from the cache');
    equal(wire.sent.length, before + 1, 'cache-first sent nothing');
  });

  await suite.check('apollo persisted queries: hash first, registered on the retry, then by hash over GET', async () => {
    const persisted = (recorder: ReturnType<typeof recordingFetch>) =>
      client(
        ApolloLink.from([
          new PersistedQueryLink({ sha256, useGETForHashedQueries: true }),
          new HttpLink({ uri: endpoint, headers: auth, fetch: recorder.fetch }),
        ]),
      );
    const first = recordingFetch();
    const { data } = await persisted(first).query({ query: Me });
    ok(data, 'an answer');
    equal(data.viewer.email, 'ann@example.com', 'viewer');
    ok(first.sent.length === 2, `hash, then hash and text: ${JSON.stringify(first.sent)}`);
    const [hashOnly, full] = first.sent;
    ok(hashOnly && hashOnly.method === 'GET' && !new URL(hashOnly.url).searchParams.has('query'), 'the hash alone, by GET');
    ok(full && (full.body?.includes('"query"') || new URL(full.url).searchParams.has('query')), 'the retry carries the text');

    const second = recordingFetch();
    const again = await persisted(second).query({ query: Me });
    equal(again.data?.viewer.id, data.viewer.id, 'same answer');
    equal(second.sent.length, 1, 'one request');
    const only = second.sent[0]!;
    equal(only.method, 'GET', 'by GET, so HTTP caches may keep it');
    ok(!new URL(only.url).searchParams.has('query'), 'the hash alone');
  });

  await suite.check('apollo as a second user sees none of the first user\'s data', async () => {
    const bob = client(new HttpLink({ uri: endpoint, headers: { authorization: `Bearer ${env.bobToken}` } }));
    const { data } = await bob.query({ query: AlbumById, variables: { id: library.albumId } });
    equal(data?.node ?? null, null, 'node(id:) of another user\'s album');
    const screen = await bob.query({ query: Screen });
    equal(screen.data?.viewer.albums.totalCount, 0, 'no albums');
    let refused: unknown;
    try {
      await bob.mutate({ mutation: RenameAlbum, variables: { id: library.albumId, name: 'mine' } });
    } catch (err) {
      refused = err;
    }
    ok(CombinedGraphQLErrors.is(refused), `renaming another user's album is refused: ${String(refused)}`);
    equal(refused.errors[0]?.extensions?.['code'], 'NOT_FOUND', 'as if it did not exist');
    const still = await ann.query({ query: AlbumById, variables: { id: library.albumId }, fetchPolicy: 'network-only' });
    const node = still.data?.node;
    ok(node && 'name' in node && node.name === 'Paris 2024', 'the album is unchanged');
  });

  await suite.check('graphql-codegen\'s persisted documents run by id on the trusted server', async () => {
    const hash = (Me as unknown as { __meta__?: { hash?: string } }).__meta__?.hash;
    ok(hash, 'codegen gave the document its hash');
    const res = await fetch(`${env.trustedUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ documentId: hash }),
    });
    const body = (await res.json()) as { data?: { viewer?: { email?: string } } };
    equal(body.data?.viewer?.email, 'ann@example.com', `the operator's document ran: ${JSON.stringify(body)}`);
  });

  return library;
}
