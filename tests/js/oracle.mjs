#!/usr/bin/env node
// Response-order and field-merging oracle for the Hypernet GraphQL server, backed by
// graphql-js (the reference implementation).
//
// GraphQL §7.1 orders a response map as CollectFields orders the selection set, and
// merges every selection of one response key (MergeSelectionSets). This process asks the
// server, then lets graphql-js execute the same document over the server's own values:
// graphql-js lays the result out as the spec says, so any difference in key order, a
// missing or extra key, or a half-merged field shows up as a textual difference.
//
// Run:   node tests/js/oracle.mjs <path-to-schema.graphql>
//        (once: `npm ci --prefix tests/js`)
//
// Protocol: JSON lines on stdin/stdout, one JSON object per line. Each input line is
// answered by exactly one output line, in input order (one request at a time; blank
// lines are skipped). Diagnostics, if any, go to stderr.
//   in:  {"id": <any JSON, echoed>, "url": "http://127.0.0.1:PORT/graphql",
//         "token": "<bearer token>" | null, "query": "<document>",
//         "variables": {...} | null, "operationName": "<name>" | null,
//         "timeoutMs": <optional: per HTTP request, default 30000>}
//   out, one of:
//     {"id", "ok": true}                   graphql-js lays out the server's data identically
//         (+ "errors": [...] when the server's answer had GraphQL errors; also ok when
//          both graphql-js and the server refuse the request as a whole, e.g. an unknown
//          operationName)
//         (+ "checked": "augmented", see mutations below)
//     {"id", "ok": false, "kind": "invalid", "messages": ["..."]}
//         graphql-js's parser or validator rejects the document; nothing was sent
//     {"id", "ok": false, "kind": "mismatch",
//      "expected": "<JSON text of graphql-js's data>" | null,
//      "actual": "<JSON text of the server's data>",
//      "errors": [...],                     the server's GraphQL errors, if any
//      "missingKeys": ["viewer.media.pageInfo", ...],  selected but absent in the server's
//                                           objects (at most 20)
//      "oracleErrors": [{"message", "path"}],  graphql-js's own errors, e.g. a non-null
//                                           field the server left out
//      "firstDifference": {"path", "expected", "actual"},  first differing key list or value
//      "message"}                           only when "expected" is null: graphql-js refuses
//                                           the request as a whole (a missing required
//                                           variable) but the server answered with data
//     {"id", "ok": false, "kind": "rejected", "errors": [...]}
//         graphql-js accepts and executes the request, the server refused it as a whole
//         (data null, no error with a path: its limits, parser or validator)
//     {"id", "ok": false, "kind": "http", "request": "original" | "augmented",
//      "status": <int> | null, "body": "<first 2000 chars>", "message"}
//         no usable GraphQL answer: connection failure, non-2xx status, not JSON
//     {"id", "ok": false, "kind": "unsupported", "message"}   subscriptions
//     {"id", "ok": false, "kind": "harness", "message"}       a bad input line or a bug here
// Optional fields appear only when they have something to say.
//
// How a request is checked:
//   1. parse + validate with graphql-js ("invalid" if it fails);
//   2. POST the document as given; its answer is A;
//   3. if the document has selection sets on an interface or union, POST an augmented
//      copy where each of them also selects `hnOracleType: __typename`; its answer is B
//      and tells graphql-js the runtime type of each abstract object;
//   4. graphql-js executes the original document with A's values as the root value: each
//      field reads its response key from the server's object; the runtime type of an
//      abstract object is read from B at the same place;
//   5. JSON.stringify of graphql-js's data must equal JSON.stringify of A's data.
// Values come from A rather than B so that values that differ between two requests (a
// signed `contentUrl`, a timestamp) cannot make a false mismatch; B is used only for the
// type names. A mutation is never sent twice: when it has abstract selections, only the
// augmented copy is sent and checked (the answer then says "checked": "augmented").
//
// Introspection: graphql-js answers `__schema`, `__type` and the fields of the
// introspection types with resolvers of its own (from the SDL given here). They are
// switched off at start so that introspection fields, too, read the server's values: the
// oracle checks introspection answers for order and merging, not their content.
//
// Self-test by hand (a prebuilt server binary; nothing is rebuilt):
//   npm ci --prefix tests/js
//   HYPERNET_BIN=/tmp/hypernet-main node tests/js/selftest.mjs
//   HYPERNET_BIN=/tmp/hypernet-main HYPERNET_ORACLE_EXPECT_BUGS=1 node tests/js/selftest.mjs
// selftest.mjs starts the server on a free port with a temp data dir, seeds a user,
// albums, media, links and trash, and drives this oracle through the protocol above.
// Or by hand, with a server on 127.0.0.1:18444 and a token from `register`:
//   echo '{"id":1,"url":"http://127.0.0.1:18444/graphql","token":"<T>","query":"{ viewer { id email } }"}' \
//     | node tests/js/oracle.mjs schema.graphql

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  Kind,
  OperationTypeNode,
  SchemaMetaFieldDef,
  TypeInfo,
  TypeMetaFieldDef,
  buildSchema,
  execute,
  getOperationAST,
  introspectionTypes,
  isAbstractType,
  isObjectType,
  parse,
  print,
  validate,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/** The response key the augmented document gives `__typename` in abstract selections. */
const TYPE_KEY = 'hnOracleType';
const DEFAULT_TIMEOUT_MS = 30_000;
const BODY_LIMIT = 2000;
const MISSING_LIMIT = 20;

/** A failure to report as one answer line; `fields` go into that line. */
class Answer extends Error {
  constructor(fields) {
    super(fields.message ?? fields.kind);
    this.fields = fields;
  }
}

// ---------------------------------------------------------------------------------------
// Schema

function loadSchema(path) {
  const schema = buildSchema(readFileSync(path, 'utf8'));
  readIntrospectionFromResponse();
  return schema;
}

/**
 * graphql-js resolves `__schema`, `__type` and every field of the introspection types
 * with resolvers of its own, which ignore `fieldResolver`. Dropping them makes those
 * fields read the server's answer like any other field. These definitions are module
 * singletons, so this changes them for this whole process, which only uses graphql-js
 * for this oracle (validation does not look at resolvers). `__typename` keeps its
 * resolver: graphql-js computes it from the resolved type, which checks the server's.
 */
function readIntrospectionFromResponse() {
  SchemaMetaFieldDef.resolve = undefined;
  TypeMetaFieldDef.resolve = undefined;
  for (const type of introspectionTypes) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) field.resolve = undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Documents

/** Parses and validates `query`; throws an "invalid" answer when graphql-js rejects it. */
function checkDocument(schema, query) {
  let document;
  try {
    document = parse(query);
  } catch (err) {
    throw new Answer({ kind: 'invalid', messages: [err.message] });
  }
  const errors = validate(schema, document);
  if (errors.length > 0) {
    throw new Answer({ kind: 'invalid', messages: errors.map((e) => e.message) });
  }
  return document;
}

function typeMarkerField() {
  return {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: TYPE_KEY },
    name: { kind: Kind.NAME, value: '__typename' },
    arguments: [],
    directives: [],
  };
}

/**
 * A copy of `document` where every selection set whose parent type is an interface or a
 * union (fragment definitions and inline fragments included) also selects
 * `hnOracleType: __typename`, and how many selection sets got it.
 */
function addTypeMarkers(schema, document) {
  const typeInfo = new TypeInfo(schema);
  let added = 0;
  const augmented = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        // On leave, TypeInfo still holds this selection set's parent type.
        leave(node) {
          if (!isAbstractType(typeInfo.getParentType())) return undefined;
          added += 1;
          return { ...node, selections: [...node.selections, typeMarkerField()] };
        },
      },
    }),
  );
  // A document that already uses the key for something else would conflict.
  const errors = validate(schema, augmented);
  if (errors.length > 0) {
    throw new Answer({
      kind: 'harness',
      message: `the document with ${TYPE_KEY} added is invalid (is ${TYPE_KEY} used?): ${errors[0].message}`,
    });
  }
  return { augmented, added };
}

/** The operation type `operationName` picks, or null when graphql-js cannot pick one. */
function operationType(document, operationName) {
  return getOperationAST(document, operationName ?? undefined)?.operation ?? null;
}

// ---------------------------------------------------------------------------------------
// HTTP

/** POSTs a GraphQL request; returns the parsed JSON object, or throws an "http" answer. */
async function postGraphQL(request, query, which) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  // Absent rather than null: a server may read `"variables": null` differently.
  const body = { query };
  if (request.variables != null) body.variables = request.variables;
  if (request.operationName != null) body.operationName = request.operationName;

  let status = null;
  let text = '';
  try {
    const res = await fetch(request.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    throw httpAnswer(which, status, text, `request failed: ${err.cause?.message ?? err.message}`);
  }
  if (status < 200 || status > 299) throw httpAnswer(which, status, text, `HTTP ${status}`);
  let json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw httpAnswer(which, status, text, `body is not JSON: ${err.message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw httpAnswer(which, status, text, 'body is not a JSON object');
  }
  if (!('data' in json) && !('errors' in json)) {
    throw httpAnswer(which, status, text, 'body has neither data nor errors');
  }
  return json;
}

function httpAnswer(which, status, body, message) {
  return new Answer({
    kind: 'http',
    request: which,
    status,
    body: body.length > BODY_LIMIT ? `${body.slice(0, BODY_LIMIT)}…` : body,
    message,
  });
}

// ---------------------------------------------------------------------------------------
// Execution over the server's values

/**
 * Maps each object of `values` to the type name its counterpart in `typed` (the answer
 * to the augmented document, same response keys plus `hnOracleType`) carries. The walk
 * goes by response key and list index, so it also enters JSON scalar values, harmlessly.
 */
function indexTypeNames(values, typed, into = new WeakMap()) {
  if (Array.isArray(values)) {
    if (!Array.isArray(typed)) return into;
    const n = Math.min(values.length, typed.length);
    for (let i = 0; i < n; i += 1) indexTypeNames(values[i], typed[i], into);
  } else if (isPlainObject(values) && isPlainObject(typed)) {
    if (typeof typed[TYPE_KEY] === 'string') into.set(values, typed[TYPE_KEY]);
    for (const key of Object.keys(values)) {
      if (Object.hasOwn(typed, key)) indexTypeNames(values[key], typed[key], into);
    }
  }
  return into;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Runs graphql-js over `rootValue` (the server's data): every field, the alias if any,
 * is read from the server's object (own keys only: an alias such as `constructor` must
 * not find Object.prototype), and an abstract object's type comes from `typeNames`.
 */
async function executeOverResponse(schema, document, request, rootValue, typeNames, missing) {
  const fieldResolver = (source, _args, _ctx, info) => {
    if (!isPlainObject(source)) return null;
    if (Object.hasOwn(source, info.path.key)) return source[info.path.key];
    if (missing.length < MISSING_LIMIT) missing.push(pathText(info.path));
    return null;
  };
  const typeResolver = (value) => {
    const name = typeNames.get(value);
    if (name !== undefined) return name;
    // Fallback when the augmented answer lacked the object: the client's own __typename.
    return typeof value?.__typename === 'string' ? value.__typename : undefined;
  };
  return execute({
    schema,
    document,
    rootValue,
    variableValues: request.variables ?? undefined,
    operationName: request.operationName ?? undefined,
    fieldResolver,
    typeResolver,
  });
}

/** A response path (graphql-js's linked list) as `viewer.media.edges.0.node`. */
function pathText(path) {
  const keys = [];
  for (let p = path; p; p = p.prev) keys.push(p.key);
  return keys.reverse().join('.');
}

/** True when the server refused the request as a whole (errors, none tied to a field). */
function refusedWhole(response) {
  return (
    response.data == null &&
    Array.isArray(response.errors) &&
    response.errors.length > 0 &&
    response.errors.every((e) => e == null || e.path == null)
  );
}

/**
 * The first place where `expected` and `actual` differ, walking both in order, as
 * {path, expected, actual} with short descriptions; null when they are equal.
 */
function firstDifference(expected, actual, path = []) {
  const here = path.join('.') || '(data)';
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const ek = Object.keys(expected);
    const ak = Object.keys(actual);
    if (ek.join('\u0000') !== ak.join('\u0000')) {
      return { path: here, expected: `keys ${JSON.stringify(ek)}`, actual: `keys ${JSON.stringify(ak)}` };
    }
    for (const key of ek) {
      const d = firstDifference(expected[key], actual[key], [...path, key]);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      return { path: here, expected: `${expected.length} items`, actual: `${actual.length} items` };
    }
    for (let i = 0; i < expected.length; i += 1) {
      const d = firstDifference(expected[i], actual[i], [...path, i]);
      if (d) return d;
    }
    return null;
  }
  const e = JSON.stringify(expected);
  const a = JSON.stringify(actual);
  return e === a ? null : { path: here, expected: e ?? 'undefined', actual: a ?? 'undefined' };
}

function briefErrors(errors) {
  return errors.map((e) => ({ message: e.message, path: e.path ?? null }));
}

// ---------------------------------------------------------------------------------------
// One request

async function check(schema, request) {
  if (typeof request.query !== 'string') throw new Answer({ kind: 'harness', message: '`query` must be a string' });
  if (typeof request.url !== 'string') throw new Answer({ kind: 'harness', message: '`url` must be a string' });

  const document = checkDocument(schema, request.query);
  const opType = operationType(document, request.operationName);
  if (opType === OperationTypeNode.SUBSCRIPTION) {
    throw new Answer({ kind: 'unsupported', message: 'subscriptions are not checked' });
  }
  const { augmented, added } = addTypeMarkers(schema, document);

  let executed = document; // what graphql-js executes: the document the server answered
  let response; // A
  let typed; // B
  let checked;
  if (added === 0) {
    // No abstract selections: the type names are never needed, one request does.
    response = await postGraphQL(request, request.query, 'original');
    typed = response;
  } else if (opType === OperationTypeNode.MUTATION) {
    // Never run a mutation twice: check the augmented document instead.
    executed = augmented;
    response = await postGraphQL(request, print(augmented), 'augmented');
    typed = response;
    checked = 'augmented';
  } else {
    response = await postGraphQL(request, request.query, 'original');
    typed = await postGraphQL(request, print(augmented), 'augmented');
  }

  const typeNames = indexTypeNames(response.data, typed.data);
  const missing = [];
  const result = await executeOverResponse(schema, executed, request, response.data, typeNames, missing);

  const serverErrors = Array.isArray(response.errors) && response.errors.length > 0 ? response.errors : undefined;
  const oracleRefused = !('data' in result);
  const serverRefused = refusedWhole(response);
  if (serverRefused && !oracleRefused) {
    return { ok: false, kind: 'rejected', errors: response.errors };
  }
  if (serverRefused && oracleRefused) {
    // Both refuse (an unknown operationName, bad variables): nothing to compare.
    return { ok: true, errors: serverErrors, checked };
  }

  const expected = oracleRefused ? null : JSON.stringify(result.data);
  const actual = JSON.stringify(response.data ?? null);
  if (expected === actual) return { ok: true, errors: serverErrors, checked };
  return {
    ok: false,
    kind: 'mismatch',
    message: oracleRefused
      ? `graphql-js refuses the request as a whole, the server answered data: ${result.errors?.[0]?.message}`
      : undefined,
    expected,
    actual,
    errors: serverErrors,
    missingKeys: missing.length > 0 ? missing : undefined,
    oracleErrors: result.errors ? briefErrors(result.errors) : undefined,
    firstDifference: oracleRefused ? undefined : firstDifference(result.data, response.data ?? null),
    checked,
  };
}

/** The answer line for one input line; never throws. */
async function answerLine(schema, line) {
  let id = null;
  try {
    let request;
    try {
      request = JSON.parse(line);
    } catch (err) {
      throw new Answer({ kind: 'harness', message: `the line is not JSON: ${err.message}` });
    }
    if (!isPlainObject(request)) throw new Answer({ kind: 'harness', message: 'a line must be a JSON object' });
    id = request.id ?? null;
    return { id, ...(await check(schema, request)) };
  } catch (err) {
    if (err instanceof Answer) return { id, ok: false, ...err.fields };
    return { id, ok: false, kind: 'harness', message: String(err?.stack ?? err) };
  }
}

function writeLine(value) {
  return new Promise((resolve) => {
    process.stdout.write(`${JSON.stringify(value)}\n`, () => resolve());
  });
}

async function main() {
  const schemaPath = process.argv[2];
  if (!schemaPath) {
    process.stderr.write('usage: node tests/js/oracle.mjs <path-to-schema.graphql>\n');
    process.exit(2);
  }
  let schema;
  try {
    schema = loadSchema(schemaPath);
  } catch (err) {
    process.stderr.write(`oracle: cannot load schema ${schemaPath}: ${err.message}\n`);
    process.exit(2);
  }
  // The reader went away: nothing left to answer.
  process.stdout.on('error', () => process.exit(0));
  // Last resort: log, keep serving; every line is already answered inside a try.
  process.on('uncaughtException', (err) => process.stderr.write(`oracle: ${err?.stack ?? err}\n`));
  process.on('unhandledRejection', (err) => process.stderr.write(`oracle: ${err?.stack ?? err}\n`));

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const answer = await answerLine(schema, line);
    await writeLine(answer);
  }
}

await main();
