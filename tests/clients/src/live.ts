// The client suite's live half (after build.mjs): Apollo Client, Relay, a browser, and
// subscriptions through graphql-ws and Apollo, against the servers tests/api/clients.rs
// started. One JSON line per check; exits 1 if any failed.
import { apollo } from './apollo.js';
import { browser } from './browser.js';
import { Suite, readEnv } from './check.js';
import { relay } from './relay.js';
import { subscriptions } from './subscriptions.js';

async function main(): Promise<number> {
  const env = readEnv();
  const suite = new Suite();
  const library = await apollo(env, suite);
  // The library in the default order (newest first): what Relay must page through.
  const res = await fetch(`${env.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${env.annToken}` },
    body: JSON.stringify({ query: '{ viewer { media(first: 100) { edges { node { id } } } } }' }),
  });
  const all = (await res.json()) as { data: { viewer: { media: { edges: { node: { id: string } }[] } } } };
  const expected = all.data.viewer.media.edges.map((e) => e.node.id);
  if (expected.length !== library.mediaIds.length) {
    console.error(`the library holds ${expected.length} media, Apollo uploaded ${library.mediaIds.length}`);
  }
  await relay(env, suite, expected);
  await browser(env, suite);
  await subscriptions(env, suite);
  console.error(`client suite: ${suite.verdicts.length - suite.failed} of ${suite.verdicts.length} checks passed`);
  return suite.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
