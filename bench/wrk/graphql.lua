-- wrk script for POST /graphql. bench/run prepends a config block that defines:
--   PEER       "hypernet" or "postgraphile"
--   SCENARIO   node, deep_page, traverse, write, or a page of the viewer's (album_page and its
--              shapes, library_page, timeline)
--   DOCUMENT   the GraphQL document this peer is sent for SCENARIO (bench/run: DOCUMENTS)
--   TOKENS     access tokens, TOKENS[u] for seeded user u
--   NUSERS, NMEDIA, NALBUMS, LPA (links per album), CAP (write slots per album)
--   DEEP_CURSORS  DEEP_CURSORS[u] = cursor 5,000 rows into user u's library (deep_page)
--   B0, NTHREADS  first write batch number of this run, wrk thread count (write)
-- Ids follow bench/sql/seed.sql, so every request can pick its user and objects itself.

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- base64url without padding.
local function b64url(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for k = 1, chars do
      local idx = math.floor(v / 2 ^ (18 - 6 * (k - 1))) % 64
      out[#out + 1] = B64:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

local function media_id(u, k)
  return b64url(string.format("Media:%08x000040008000%012x", u, k))
end

local function album_id(u, a)
  return b64url(string.format("Album:%08x00004000a000%012x", u, a))
end

local function user_uuid(u)
  return string.format("%08x-0000-4000-9000-0000%08x", u, u)
end

local function media_uuid(u, k)
  return string.format("%08x-0000-4000-8000-%012x", u, k)
end

-- PostGraphile v5 (bench/postgraphile): no auth, the user id is an argument.
local function postgraphile_request()
  local u = math.random(1, NUSERS)
  local vars
  if SCENARIO == "node" then
    vars = '{"id":"' .. media_uuid(u, math.random(1, NMEDIA)) .. '"}'
  elseif SCENARIO == "deep_page" then
    u = math.random(1, #DEEP_CURSORS)
    vars = '{"u":"' .. user_uuid(u) .. '","o":' .. DEEP_OFFSET .. '}'
  elseif SCENARIO == "traverse" or SCENARIO == "write" then
    error("postgraphile has no scenario " .. tostring(SCENARIO))
  else -- a page of the viewer's
    vars = '{"u":"' .. user_uuid(u) .. '"}'
  end
  return wrk.format("POST", "/graphql", { ["Content-Type"] = "application/json" },
    '{"query":"' .. DOCUMENT:gsub('"', '\\"') .. '","variables":' .. vars .. '}')
end

local threads = {}
local tid, counter = 0, 0
errors = 0 -- global: done() reads it through thread:get

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  math.randomseed(1000003 * (tid + 1) + (B0 or 0))
end

local function post(u, query, vars)
  local body = '{"query":"' .. query:gsub('"', '\\"') .. '"'
  if vars then body = body .. ',"variables":' .. vars end
  body = body .. "}"
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. TOKENS[u],
  }, body)
end

function request()
  counter = counter + 1
  if PEER == "postgraphile" then return postgraphile_request() end
  if SCENARIO == "node" then
    local u = math.random(1, NUSERS)
    return post(u, DOCUMENT, '{"id":"' .. media_id(u, math.random(1, NMEDIA)) .. '"}')
  elseif SCENARIO == "deep_page" then
    local u = math.random(1, #DEEP_CURSORS)
    return post(u, DOCUMENT, '{"after":"' .. DEEP_CURSORS[u] .. '"}')
  elseif SCENARIO == "traverse" then
    local u = math.random(1, NUSERS)
    return post(u, DOCUMENT, '{"id":"' .. media_id(u, math.random(1, NMEDIA)) .. '"}')
  elseif SCENARIO == "write" then
    -- addMediaToAlbum of 10 media; same numbering as bench/sql/write.sql: batch b -> user, album, slot.
    local b = B0 + tid + NTHREADS * (counter - 1)
    local u = 1 + b % NUSERS
    local a = 1 + math.floor(b / NUSERS) % NALBUMS
    local slot = math.floor(b / (NUSERS * NALBUMS)) % CAP
    local first = a * LPA + slot * 10
    local ids = {}
    for j = 0, 9 do ids[#ids + 1] = '"' .. media_id(u, (first + j) % NMEDIA + 1) .. '"' end
    return post(u, DOCUMENT, '{"a":"' .. album_id(u, a) .. '","m":[' .. table.concat(ids, ",") .. ']}')
  end
  -- A page of the viewer's, without variables.
  return post(math.random(1, NUSERS), DOCUMENT)
end

-- A GraphQL error arrives with status 200: count it as a failed request.
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local errs = 0
  for _, t in ipairs(threads) do errs = errs + (tonumber(t:get("errors")) or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"graphql_errors":%d,"socket_errors":%d,"status_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errs, e.connect + e.read + e.write + e.timeout, e.status))
end
