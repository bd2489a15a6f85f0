-- PUT /api/resources/:id (full replacement) of random seeded ids.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
done = c.done
function init(args)
  c.seed_random()
  local ids, reqs = c.load_ids(), {}
  for i = 1, 8192 do
    local id = ids[math.random(#ids)]
    reqs[i] = wrk.format("PUT", "/api/resources/" .. id, c.headers(true), c.body("update", (thread_id or 1) * 1000000 + i))
  end
  request = c.cycler(reqs)
end
