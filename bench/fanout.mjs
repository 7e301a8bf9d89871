// The fan-out load of bench/run's `fanout` scenario (Node 22: its global WebSocket, no
// packages). Registers USERS accounts with an album each (then, once the server's blocking
// threads have ended, prints `ACCOUNTS` and waits two seconds: the harness reads the server's
// memory before any socket), opens half the SUBSCRIBERS sockets (prints `HALF`, waits two
// seconds), then the rest to
// /graphql/ws (graphql-transport-ws), spread over the users round-robin, each subscribed to
// `changes(types: [ALBUM])`. It then prints `READY` and waits IDLE_S seconds (the harness
// reads the server's memory meanwhile), renames albums at RATE per second for DURATION_S
// seconds (round-robin over the users; each new name carries the moment its mutation was
// sent), and prints `BENCH_JSON {...}`: how many events each subscriber should have had and
// got, and the latency from each mutation's sending to each subscriber's event (an upper bound
// of commit-to-client: the change commits after the mutation is sent).
//
// Environment: BASE (http://127.0.0.1:PORT), USERS, SUBSCRIBERS, RATE, DURATION_S, IDLE_S,
// RUN (a tag for the accounts' emails), PASSWORD.
const env = (name, fallback) => process.env[name] ?? fallback;
const BASE = env('BASE');
const USERS = Number(env('USERS', '100'));
const SUBSCRIBERS = Number(env('SUBSCRIBERS', '1000'));
const RATE = Number(env('RATE', '100'));
const DURATION_S = Number(env('DURATION_S', '10'));
const IDLE_S = Number(env('IDLE_S', '3'));
const RUN = env('RUN', String(Date.now()));
const PASSWORD = env('PASSWORD', 'bench-password-1');
const WS_URL = BASE.replace(/^http/, 'ws') + '/graphql/ws';

async function gql(query, variables, token) {
  const res = await fetch(BASE + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const SUBSCRIPTION = 'subscription { changes(types: [ALBUM]) { cursor node { kind objectId object { ... on Album { name } } } } }';

/** One subscriber: resolves once its subscription is in place. */
function subscribe(token, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(WS_URL, 'graphql-transport-ws');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { accessToken: token } }));
    ws.onerror = (e) => reject(new Error(`socket error: ${e.message ?? e}`));
    ws.onclose = (e) => {
      if (e.code !== 1000) closes.push(e.code);
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION } }));
        // The server reads the subscription's start before the next message; a short pause
        // after the last one lets every subscription be in place.
        resolve(ws);
      } else if (msg.type === 'next') {
        onEvent(msg.payload);
      } else if (msg.type === 'error') {
        reject(new Error(JSON.stringify(msg.payload)));
      }
    };
  });
}

const closes = [];
const latencies = [];
let received = 0;
let errors = 0;

function onEvent(payload) {
  const now = performance.now();
  received++;
  if (payload.errors) {
    errors++;
    return;
  }
  const name = payload.data?.changes?.node?.object?.name ?? '';
  const sent = Number(name.split(':')[1]);
  if (Number.isFinite(sent)) latencies.push(now - sent);
}

async function main() {
  const users = Array.from({ length: USERS }, (_, i) => i);
  const accounts = await pool(users, 4, async (i) => {
    const email = `fanout-${RUN}-${i}@bench.local`;
    const d = await gql('mutation($e:String!,$p:String!){register(input:{email:$e,password:$p}){accessToken}}', { e: email, p: PASSWORD });
    const token = d.register.accessToken;
    const a = await gql('mutation{createAlbum(input:{name:"fan-out"}){album{id}}}', {}, token);
    return { token, album: a.createAlbum.album.id, subscribers: 0 };
  });
  // The password hashing of the registrations ran on the server's blocking threads, whose
  // memory goes back when they end, ten idle seconds later: the baseline comes after that.
  await new Promise((r) => setTimeout(r, 12_000));
  console.log('ACCOUNTS');
  await new Promise((r) => setTimeout(r, 2000));
  // In two halves: the first also warms the server's allocator up (its first thousand
  // connections leave freed memory it keeps), the second shows what a subscriber costs.
  const open = (from, to) =>
    pool(Array.from({ length: to - from }, (_, i) => from + i), 50, async (i) => {
      const account = accounts[i % USERS];
      account.subscribers++;
      return subscribe(account.token, onEvent);
    });
  const half = Math.floor(SUBSCRIBERS / 2);
  const sockets = await open(0, half);
  await new Promise((r) => setTimeout(r, 1000));
  console.log('HALF');
  await new Promise((r) => setTimeout(r, 2000));
  sockets.push(...(await open(half, SUBSCRIBERS)));
  await new Promise((r) => setTimeout(r, 1000));
  console.log('READY');
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));

  // Writes at RATE per second, each sent on its schedule whatever the ones before it do.
  const writeLatencies = [];
  let expected = 0;
  let writes = 0;
  let writeErrors = 0;
  const inFlight = [];
  const started = performance.now();
  const total = Math.round(RATE * DURATION_S);
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const account = accounts[n % USERS];
    const sent = performance.now();
    expected += account.subscribers;
    writes++;
    inFlight.push(
      gql('mutation($id:ID!,$n:String!){updateAlbum(input:{id:$id,name:$n}){album{id}}}', { id: account.album, n: `w${n}:${sent}` }, account.token)
        .then(() => writeLatencies.push(performance.now() - sent))
        .catch(() => writeErrors++),
    );
  }
  const writeSeconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  // Events still on their way.
  for (let i = 0; i < 100 && received < expected; i++) await new Promise((r) => setTimeout(r, 100));
  for (const ws of sockets) ws.close(1000);

  const pct = (xs, p) => {
    if (!xs.length) return null;
    const s = [...xs].sort((a, b) => a - b);
    return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
  };
  console.log('BENCH_JSON ' + JSON.stringify({
    users: USERS,
    subscribers: SUBSCRIBERS,
    rate_target: RATE,
    writes,
    write_seconds: Math.round(writeSeconds * 100) / 100,
    write_errors: writeErrors,
    write_p50_ms: pct(writeLatencies, 50),
    write_p99_ms: pct(writeLatencies, 99),
    events_expected: expected,
    events_received: received,
    event_errors: errors,
    event_p50_ms: pct(latencies, 50),
    event_p99_ms: pct(latencies, 99),
    event_max_ms: pct(latencies, 100),
    unexpected_closes: closes.length,
  }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
