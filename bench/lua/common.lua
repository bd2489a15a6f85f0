-- Shared by every scenario (loaded with dofile). Environment:
-- BENCH_KEY (API key, may be empty), BENCH_PATH (GET path), BENCH_IDS_FILE (one id per line),
-- BENCH_CATEGORIES (default 20), BENCH_SEED (default 12345).
local M = {}
M.key = os.getenv("BENCH_KEY") or ""
M.path = os.getenv("BENCH_PATH") or "/api/health"
M.categories = tonumber(os.getenv("BENCH_CATEGORIES") or "20") or 20
M.seed = tonumber(os.getenv("BENCH_SEED") or "12345") or 12345

function M.headers(json)
  local h = {}
  if M.key ~= "" then h["Authorization"] = "Bearer " .. M.key end
  if json then h["Content-Type"] = "application/json" end
  return h
end

function M.load_ids()
  local ids = {}
  local f = io.open(os.getenv("BENCH_IDS_FILE") or "", "r")
  if f then
    for line in f:lines() do
      local n = tonumber(line)
      if n then ids[#ids + 1] = n end
    end
    f:close()
  end
  if #ids == 0 then ids[1] = 1 end
  return ids
end

-- Number the threads so each gets its own deterministic random stream.
local threads = 0
function M.setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function M.seed_random()
  math.randomseed(M.seed + 7919 * (thread_id or 1))
end

-- Requests are built once in init(); request() is a table lookup.
function M.cycler(reqs)
  local i, n = 0, #reqs
  return function()
    i = i + 1
    if i > n then i = 1 end
    return reqs[i]
  end
end

function M.body(tag, n)
  return string.format(
    '{"name":"wrk %s %d","description":"written by the wrk %s scenario","category":"cat-%d","metadata":{"source":"wrk","n":%d}}',
    tag, n, tag, n % M.categories, n)
end

-- One machine-readable line, parsed by run.py.
function M.done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d sockerr=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end

return M
