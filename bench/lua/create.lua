-- POST /api/resources with a JSON body.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
setup = c.setup
done = c.done
function init(args)
  local reqs = {}
  for i = 1, 4096 do
    reqs[i] = wrk.format("POST", "/api/resources", c.headers(true), c.body("create", (thread_id or 1) * 1000000 + i))
  end
  request = c.cycler(reqs)
end
