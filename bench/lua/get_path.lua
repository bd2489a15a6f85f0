-- GET BENCH_PATH (health, list, list-search, list-cursor-deep, authenticated 404).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
done = c.done
function init(args)
  request = c.cycler({ wrk.format("GET", c.path, c.headers(false)) })
end
