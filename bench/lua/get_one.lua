-- GET /api/resources/:id, ids drawn at random (seeded per thread) from BENCH_IDS_FILE.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
done = c.done
function init(args)
  c.seed_random()
  local ids, reqs = c.load_ids(), {}
  for i = 1, 8192 do
    reqs[i] = wrk.format("GET", "/api/resources/" .. ids[math.random(#ids)], c.headers(false))
  end
  request = c.cycler(reqs)
end
