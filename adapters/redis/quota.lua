-- The quota decision in Redis: domain/quota.py and domain/credits.py, step for step,
-- in one script, so a decision is atomic (Redis runs one script at a time). One hash
-- per subject (KEYS[1], hash-tagged, so a cluster keeps it in one slot):
--   m_h, m_p / h_h, h_p / d_h, d_p   head bucket and 61 counts (packed: 61 unsigned
--                                    32-bit integers) of the minute, hour and day windows
--   cv, cr, cp                       credits: version, count, refill period
-- ARGV: now in epoch microseconds ('' = the server's clock), spend (1/0), the minute,
-- hour and day limits ('' = no such window), the credits' version, number set, refill
-- interval and refill amount ('' = unmetered / no refill).
-- Returns "admitted,out_of_credits,credits left (-1: unmetered),credits retry (-1:
-- none)" then ",remaining,retry_after,reset_after" of each window the key has: one
-- string, so a client reads one reply, not an array of a dozen.

local key = KEYS[1]
local now_us = tonumber(ARGV[1])
if now_us == nil then
    local t = redis.call('TIME')
    now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local now = now_us / 1e6
local spend = ARGV[2] == '1'
local LIMITS = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])}
local SECONDS = {60, 3600, 86400}
local FIELD = {'m', 'h', 'd'}
local cv_arg = ARGV[6]
local cset = tonumber(ARGV[7])
local interval = ARGV[8] ~= '' and ARGV[8] or nil
local amount = tonumber(ARGV[9])

local stored = {}
local flat = redis.call('HGETALL', key)
for i = 1, #flat, 2 do stored[flat[i]] = flat[i + 1] end

-- Packed, not text: one C call reads or writes a window's 61 counts.
local PACKED = '<' .. string.rep('I4', 61)

local function zeros()
    local c = {}
    for i = 1, 61 do c[i] = 0 end
    return c
end

-- The window moved on to `head` (never back: a clock behind the last write keeps it).
local function slide(head_s, counts_s, head)
    if head_s == nil or counts_s == nil then return zeros(), head end
    local old = tonumber(head_s)
    local c = {struct.unpack(PACKED, counts_s)}
    c[62] = nil  -- unpack's last value is the position after the counts
    local shift = head - old
    if shift <= 0 then return c, old end
    if shift >= 61 then return zeros(), head end
    local moved = zeros()
    for j = 1, 61 - shift do moved[j] = c[j + shift] end
    return moved, head
end

local function sum(c)
    local total = 0
    for i = 1, 61 do total = total + c[i] end
    return total
end

local function expiry(w, bucket)
    local width = w / 60
    return math.max(1, math.ceil(bucket * width + width + w - now))
end

local function status(limit, w, head, c)
    local used = sum(c)
    local remaining = math.max(0, limit - used)
    local oldest = head - 61 + 1
    local retry, reset = 0, 0
    if remaining == 0 then
        local total = used
        for i = 1, 61 do
            total = total - c[i]
            if total < limit then retry = expiry(w, oldest + i - 1); break end
        end
    end
    for i = 61, 1, -1 do
        if c[i] > 0 then reset = expiry(w, oldest + i - 1); break end
    end
    return remaining, retry, reset
end

-- Refill periods: days since the epoch, or months since January 1970 (civil dates
-- from day numbers as in H. Hinnant's chrono algorithms).
local function civil(days)
    local z = days + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
        - math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local m = mp < 10 and mp + 3 or mp - 9
    local y = yoe + era * 400
    if m <= 2 then y = y + 1 end
    return y, m
end

local function days_from_civil(y, m)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local mp = m > 2 and m - 3 or m + 9
    local doy = math.floor((153 * mp + 2) / 5)
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
end

local function period_of(t)
    local days = math.floor(t / 86400)
    if interval == 'monthly' then
        local y, m = civil(days)
        return (y - 1970) * 12 + m - 1
    end
    return days
end

local function period_start(p)
    if interval == 'monthly' then
        return days_from_civil(1970 + math.floor(p / 12), p % 12 + 1) * 86400
    end
    return p * 86400
end

local windows = {}
local fits = true
for i = 1, 3 do
    if LIMITS[i] ~= nil then
        local width = SECONDS[i] / 60
        local c, head = slide(stored[FIELD[i] .. '_h'], stored[FIELD[i] .. '_p'],
            math.floor(now / width))
        windows[i] = {c = c, head = head}
        if sum(c) >= LIMITS[i] then fits = false end
    end
end

-- The admin's newer number (from the period it was set in), then a refill due since.
local metered = cv_arg ~= ''
local cv, cr, cp = stored.cv, tonumber(stored.cr), tonumber(stored.cp)
if metered then
    if cv == nil or tonumber(cv_arg) > tonumber(cv) then
        cv, cr, cp = cv_arg, cset, period_of(tonumber(cv_arg) / 1e6)
    end
    local period = period_of(now)
    if interval ~= nil and period > cp then cr, cp = amount, period end
end
local has_credit = (not metered) or cr > 0
local admitted = spend and fits and has_credit
local out_of_credits = spend and fits and not has_credit

if admitted then
    local longest = 0
    for i = 1, 3 do
        local w = windows[i]
        if w ~= nil then
            w.c[61] = w.c[61] + 1
            redis.call('HSET', key, FIELD[i] .. '_h', string.format('%d', w.head),
                FIELD[i] .. '_p', struct.pack(PACKED, unpack(w.c)))
            longest = SECONDS[i]
        end
    end
    if metered then
        cr = cr - 1
        redis.call('HSET', key, 'cv', cv, 'cr', cr, 'cp', cp)
        redis.call('PERSIST', key)  -- a count being spent must outlive every window
    elseif stored.cv == nil then
        -- Nothing in it outlives the longest window and its last bucket.
        redis.call('EXPIRE', key, longest + longest / 60 + 1)
    end
end

local answer = {admitted and 1 or 0, out_of_credits and 1 or 0, metered and cr or -1, -1}
if out_of_credits and interval ~= nil then
    answer[4] = math.max(1, math.ceil(period_start(period_of(now) + 1) - now))
end
for i = 1, 3 do
    if windows[i] ~= nil then
        local remaining, retry, reset = status(LIMITS[i], SECONDS[i], windows[i].head,
            windows[i].c)
        answer[#answer + 1] = remaining
        answer[#answer + 1] = retry
        answer[#answer + 1] = reset
    end
end
return table.concat(answer, ',')
