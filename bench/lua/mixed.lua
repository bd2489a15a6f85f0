-- 40% list (random category, page 1-5, sort, order), 40% get-one, 10% create, 10% PUT.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
done = c.done
local sorts = { "name", "created_at", "category" }
local orders = { "asc", "desc" }
function init(args)
  c.seed_random()
  local ids, reqs = c.load_ids(), {}
  for i = 1, 8192 do
    local r = math.random(100)
    local n = (thread_id or 1) * 1000000 + i
    if r <= 40 then
      local path = string.format("/api/resources?page=%d&limit=20&category=cat-%d&sort=%s&order=%s",
        math.random(5), math.random(0, c.categories - 1), sorts[math.random(#sorts)], orders[math.random(#orders)])
      reqs[i] = wrk.format("GET", path, c.headers(false))
    elseif r <= 80 then
      reqs[i] = wrk.format("GET", "/api/resources/" .. ids[math.random(#ids)], c.headers(false))
    elseif r <= 90 then
      reqs[i] = wrk.format("POST", "/api/resources", c.headers(true), c.body("mixed", n))
    else
      reqs[i] = wrk.format("PUT", "/api/resources/" .. ids[math.random(#ids)], c.headers(true), c.body("mixed-put", n))
    end
  end
  request = c.cycler(reqs)
end
