--[[
Switchboard routing: every decision is one call of this library's function, so it is
atomic with respect to every other node racing on the same Redis.

A Redis Functions library (FUNCTION LOAD once per server, FCALL per decision): unlike
EVALSHA, which runs the whole chunk again on every call (~20 us here), the functions
below are defined once. router/library.py puts the `#!lua name=...` line and
FUNCTION_NAME in front of this file; both carry a digest of it, so nodes running
different versions never replace each other's library.

keys[1]  an anchor key "<prefix>:{rt}:anchor"; every key below shares its hash tag,
         so the whole routing state lives in one Cluster slot.
args[1]  the command; args[2] the time in ms (the caller's clock, so a replay can run
         faster than real time); the rest depends on the command.

Data:
  agent:<id>       hash: region, presence, reason, skills (json {skill: proficiency}) and
                   p:<skill> (the same proficiencies, one field each),
                   languages (json list), cap_voice, cap_chat (what the agent may hold
                   in this session), roster_voice, roster_chat (the roster's capacity,
                   taken at sign-in unless the sign-in names its own), load_voice, load_chat,
                   offers, wrapup_until, idle_since, last_offer, sip_uri, node,
                   code_owed_until (a required wrap-up code owed: no room until then),
                   ix ('<score>:<channels with room, v and/or c>' as indexed, '' when not)
  avail:<region>:<skill>:<language>
                   zset of agents that can take one more contact of some channel,
                   scored by idle_since (longest idle first); a scan checks the
                   channel (one index for both: a chat offer to an idle agent, and
                   a voice offer, each move the agent once, not per channel)
  queue:<name>     zset of waiting contacts, scored by arrival minus priority credit
  qcfg:<name>      hash: the queue's routing configuration
  queue_skills     hash: queue name -> its skill (which queues a freed agent looks at)
  config_version   a token publish_queues renews whenever it rewrites qcfg and queue_skills
  contact:<id>     hash: the contact (matched_languages: the languages its latest offer
                   was matched on, '|'-joined: the chat reads a translated one through it;
                   skill_from: 'queue' when its skill is its queue's and follows it, else
                   'contact', an IVR reason's own)
  offers           zset contact -> ring deadline;  wrapups: zset agent -> end of wrap-up
  wrapup_pending:<agent>  set of finished contacts whose wrap-up the agent owes
  held:<agent>     set of the contacts offered to or served by the agent (added when
                   offered, removed when let go or finished; let_go reads it)
  wrapup_required  set of queues whose wrap-up code is required (router/store.py)
  offered          zset agent -> when it was last offered a contact (round robin's order)
  due              zset contact -> when its rules next change (relaxation, maximum wait)
  callbacks        zset contact -> when its next callback attempt is due (a callback whose
                   customer did not pick up waits out of its queue until then; the contact's
                   callback_retry_at says the same, callback_attempt which attempt comes)
  records          stream of finished contacts
  customer_windows:<id>, customer_windows_due
                   a customer's chat windows and the sweep's index of them (router/store.py):
                   written here with the chat (create), removed with its end (finish)
  stat:<queue>:<bucket>  hash of counters per 5-minute bucket
]]

-- The key prefix and the clock of the call in progress, set by route() on every call.
local P, now

local BUCKET_MS = 300000
local STAT_TTL_S = 3 * 86400
local HEAD = 25      -- contacts looked at per queue when an agent frees up
local SCAN = 64      -- agents looked at per index when a contact is routed
local MAX_PROFICIENCY = 5
-- A declined contact goes to other agents first: its decliner may have it again after
-- this long (a missed ring bars nobody: the agent is made not ready instead).
local DECLINE_BAR_MS = 5000
local TERMINAL = {completed = true, abandoned = true, failed = true}

local function num(v, default)
  local n = tonumber(v)
  if n == nil then return default end
  return n
end

-- A queue setting: publish_queues writes every field of every queue (router/store.py),
-- so there are no defaults to keep here; a queue removed from the configuration
-- while its contacts still end reads as 0.
local function qnum(q, field)
  return tonumber(q[field]) or 0
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function publish(event)
  redis.call('PUBLISH', P .. 'events', cjson.encode(event))
end

local function stat(queue, at, field, by)
  by = by or 1
  if by == 0 then return end  -- a sum that would not move (a wait of 0 ms)
  local key = P .. 'stat:' .. queue .. ':' .. tostring(at - at % BUCKET_MS)
  -- A bucket's first counter gives it its time to live; later ones need not.
  if redis.call('HINCRBY', key, field, by) == by then redis.call('EXPIRE', key, STAT_TTL_S) end
end

-- Agents ---------------------------------------------------------------------------

-- The "<region>:<skill>:<language>" suffixes of an agent's avail indexes, kept on the
-- agent (ixk) at upsert so that reindexing decodes no JSON.
local function index_suffixes(a)
  local suffixes = {}
  local skills = cjson.decode(a.skills or '{}')
  for skill, _ in pairs(skills) do
    for _, language in ipairs(cjson.decode(a.languages or '[]')) do
      suffixes[#suffixes + 1] = a.region .. ':' .. skill .. ':' .. language
    end
  end
  return table.concat(suffixes, ' ')
end

local function set_indexed(id, suffixes, score)
  for suffix in string.gmatch(suffixes or '', '%S+') do
    local index = P .. 'avail:' .. suffix
    if score ~= '' then
      redis.call('ZADD', index, score, id)
    else
      redis.call('ZREM', index, id)
    end
  end
end

-- Can this agent take one more contact of this channel right now?
-- An agent who owes a required wrap-up code (code_owed_until, see complete_contact)
-- has room for nothing until it is given.
local function has_room(a, channel)
  if a.presence ~= 'available' or num(a.wrapup_until, 0) > now then return false end
  if num(a.code_owed_until, 0) > now then return false end
  local voice, chat = num(a.load_voice, 0), num(a.load_chat, 0)
  if channel == 'voice' then
    return voice + chat == 0 and num(a.cap_voice, 1) > 0
  end
  return voice == 0 and chat < num(a.cap_chat, 0)
end

-- Keep the agent in its `avail` indexes exactly while it has room for some channel.
-- The agent remembers (ix) the score it is indexed with and which channels it has room
-- for, so a scan reads one field to know whether it fits, and an offer that leaves an
-- agent with room touches no index at all.
local ROOM_FIELDS = {'presence', 'wrapup_until', 'load_voice', 'load_chat', 'cap_voice', 'cap_chat',
  'idle_since', 'ix', 'ixk', 'code_owed_until'}

-- Moves agent `a` (its fields with any pending changes applied) in or out of the
-- indexes, and appends the ix field to store to `changes`, so that the caller writes
-- the agent with one HSET.
local function index_changes(id, a, changes)
  local voice, chat = has_room(a, 'voice'), has_room(a, 'chat')
  local score = (voice or chat) and tostring(num(a.idle_since, 0)) or ''
  local want = score == '' and '' or (score .. ':' .. (voice and 'v' or '') .. (chat and 'c' or ''))
  local have = a.ix or ''
  if have ~= want then
    if string.match(have, '^[^:]*') ~= score then set_indexed(id, a.ixk, score) end
    changes[#changes + 1] = 'ix'
    changes[#changes + 1] = want
  end
  return changes
end

local CHANNEL_MARK = {voice = 'v', chat = 'c'}

-- Did the agent, as last indexed (its ix), have room for `channel`?
local function indexed_for(ix, channel)
  return string.find(string.match(ix or '', ':(%a*)$') or '', CHANNEL_MARK[channel], 1, true) ~= nil
end

-- The fields named in `names` of hash `key` (nil when the first one is missing, which
-- callers name so that it is there whenever the hash is).
local function fields_of(key, names)
  local values = redis.call('HMGET', key, unpack(names))
  if values[1] == false then return nil end
  local t = {}
  for i, name in ipairs(names) do t[name] = values[i] or nil end
  return t
end

-- The agent's fields named in `names` (nil when the agent does not exist).
local function agent_fields(id, names)
  return fields_of(P .. 'agent:' .. id, names)
end

local function reindex(id)
  local a = agent_fields(id, ROOM_FIELDS)
  if a == nil then return end
  local changes = index_changes(id, a, {})
  if #changes > 0 then redis.call('HSET', P .. 'agent:' .. id, unpack(changes)) end
end

local function unindex(id, a)
  set_indexed(id, a.ixk or index_suffixes(a), '')
  redis.call('HSET', P .. 'agent:' .. id, 'ix', '')
end

-- Queues and relaxation -------------------------------------------------------------

-- Queue configuration is read once and kept between calls (a library's state lives as
-- long as the server's), per key prefix: a call trusts it while config_version is the
-- token it was read under. Nobody may change the tables it hands out.
local config_by_prefix = {}
local config  -- this call's entry of config_by_prefix; set by route()

local function current_config()
  local version = redis.call('GET', P .. 'config_version') or ''
  local entry = config_by_prefix[P]
  if entry == nil or entry.version ~= version then
    entry = {version = version, qcfg = {}}
    config_by_prefix[P] = entry
  end
  return entry
end

local function qcfg(name)
  if config.qcfg[name] == nil then
    config.qcfg[name] = hgetall(P .. 'qcfg:' .. name) or false
  end
  return config.qcfg[name]
end

-- {queue, skill, queue, skill, ...} and the keys of those queues' waiting lists.
local function queue_skills()
  if config.queue_skills == nil then
    config.queue_skills = redis.call('HGETALL', P .. 'queue_skills')
    config.queue_keys = {}
    for i = 1, #config.queue_skills, 2 do
      config.queue_keys[#config.queue_keys + 1] = P .. 'queue:' .. config.queue_skills[i]
    end
  end
  return config.queue_skills, config.queue_keys
end

local function reached(q, field, waited)
  local after = tonumber(q[field] or '')
  return after ~= nil and waited >= after * 1000
end

-- A contact may wait for one agent first (a transfer to a named agent, a case's owner):
-- until prefer_until only that agent may take it; then anyone the rules allow.
local function preferred_of(c)
  local preferred = c.preferred_agent or ''
  if preferred ~= '' and num(c.prefer_until, 0) > now and c.declined_by ~= preferred then
    return preferred
  end
  return nil
end

-- The agent a contact is kept from for now: the one who declined it, for DECLINE_BAR_MS.
local function barred_agent(c)
  if num(c.declined_until, 0) > now then return c.declined_by end
  return nil
end

local function clear_preference(cid, c)
  if (c.preferred_agent or '') ~= '' then
    redis.call('SREM', P .. 'preferred:' .. c.preferred_agent, cid)
  end
end

-- The widest step a contact has reached after waiting `waited` ms in its queue.
local function relaxation(c, q, waited)
  local r = {step = 'exact', languages = {c.language}, regions = {c.region}, min_proficiency = qnum(q, 'min_proficiency')}
  local fallback = cjson.decode(q.fallback_languages or '[]')
  if reached(q, 'relax_language_after_s', waited) then
    r.step = 'language'
    for _, language in ipairs(fallback) do
      if language ~= c.language then r.languages[#r.languages + 1] = language end
    end
  end
  if reached(q, 'relax_region_after_s', waited) or c.open_regions == '1' then
    r.step = reached(q, 'relax_region_after_s', waited) and 'region' or 'region_ewt'
    r.regions = {c.region}
    for _, region in ipairs(redis.call('SMEMBERS', P .. 'regions')) do
      if region ~= c.region then r.regions[#r.regions + 1] = region end
    end
  end
  if reached(q, 'relax_proficiency_after_s', waited) then
    r.step = 'proficiency'
    r.min_proficiency = 1
  end
  -- The step is `translation` only when a pair added a language: an agent matched on the
  -- fallback languages alone reads the customer untranslated, and the desk must not say
  -- "translated for you" (docs/i18n.md).
  if c.channel == 'chat' and reached(q, 'relax_translation_after_s', waited) then
    local seen = {}
    for _, language in ipairs(r.languages) do seen[language] = true end
    for _, pair in ipairs(redis.call('SMEMBERS', P .. 'translation_pairs')) do
      local source, target = string.match(pair, '^(.-)>(.-)$')
      if source == c.language and not seen[target]
          and redis.call('SISMEMBER', P .. 'translation_pairs', target .. '>' .. source) == 1 then
        seen[target] = true
        r.languages[#r.languages + 1] = target
        r.step = 'translation'
      end
    end
  end
  if preferred_of(c) then r.step = 'preferred' end
  return r
end

-- A callback waiting for its next attempt (commands.callback_unanswered): out of its
-- queue's zset, never offered, until the tick puts it back at its place.
local function retry_pending(c)
  return num(c.callback_retry_at, 0) > 0
end

-- The callback's wait for its next attempt is over (the attempt is due, or a supervisor
-- moved it): it may be offered again.
local function end_retry_wait(cid, c)
  redis.call('HDEL', P .. 'contact:' .. cid, 'callback_retry_at')
  redis.call('ZREM', P .. 'callbacks', cid)
  c.callback_retry_at = nil
end

local function waited_ms(c)
  return now - num(c.queue_entered_at, num(c.queued_at, now))
end

local DUE_FIELDS = {'relax_language_after_s', 'relax_region_after_s', 'relax_proficiency_after_s',
  'relax_translation_after_s', 'max_wait_s'}

-- When the rules of a waiting contact next change (a relaxation step, the maximum wait,
-- the end of a preferred agent's turn or of a decline's bar): the tick looks only at
-- contacts that are due, not at every waiting contact.
local function schedule_due(cid, entered, q, c)
  local next_at = nil
  local until_ms = c and preferred_of(c) and num(c.prefer_until, 0)
  if until_ms then next_at = until_ms end
  local bar_ms = c and barred_agent(c) and num(c.declined_until, 0)
  if bar_ms and (next_at == nil or bar_ms < next_at) then next_at = bar_ms end
  for _, name in ipairs(DUE_FIELDS) do
    local after = tonumber(q[name] or '')
    if after ~= nil then
      local at = entered + after * 1000
      if at > now and (next_at == nil or at < next_at) then next_at = at end
    end
  end
  if next_at then
    redis.call('ZADD', P .. 'due', next_at, cid)
  else
    redis.call('ZREM', P .. 'due', cid)
  end
end

local function entered_at(c)
  return num(c.queue_entered_at, num(c.queued_at, now))
end

local function tier_of(c, a_region, language)
  local tier = 0
  if a_region ~= c.region then tier = tier + 1 end
  if language ~= c.language then tier = tier + 2 end
  return tier
end

local function strategy_score(strategy, a, proficiency)
  if strategy == 'most_skilled' then
    return -proficiency * 1e13 + num(a.idle_since, 0)
  elseif strategy == 'round_robin' then
    return num(a.last_offer, 0)
  elseif strategy == 'least_occupied' then
    local cap = num(a.cap_voice, 1) + num(a.cap_chat, 0)
    local load = num(a.load_voice, 0) + num(a.load_chat, 0)
    return (load / math.max(cap, 1)) * 1e13 + num(a.idle_since, 0)
  end
  return num(a.idle_since, 0)
end

-- What a scan reads of a candidate under each strategy, besides its proficiency: ix
-- (which channels it had room for when last indexed) and what ranks it. No more:
-- index_changes runs on every change of load, presence or wrap-up, so ix is current;
-- the winner is read in full and checked before it is held all the same.
local SCAN_FIELDS = {
  longest_idle = {'ix', 'idle_since'},
  most_skilled = {'ix', 'idle_since'},
  round_robin = {'ix', 'last_offer'},
  least_occupied = {'ix', 'idle_since', 'load_voice', 'load_chat', 'cap_voice', 'cap_chat'},
}

-- The agent fields a change of load reads: room, indexes, and where to ring it.
local AGENT_FIELDS = {'presence', 'wrapup_until', 'load_voice', 'load_chat', 'cap_voice', 'cap_chat',
  'idle_since', 'ix', 'ixk', 'offers', 'sip_uri', 'node', 'code_owed_until', 'ring_s'}

-- The candidate's ranking fields and its proficiency in `skill` (0 when it has none).
local function candidate(id, skill, fields)
  local values = redis.call('HMGET', P .. 'agent:' .. id, 'p:' .. skill, unpack(fields))
  local a = {}
  for i, name in ipairs(fields) do a[name] = values[i + 1] or nil end
  return a, num(values[1], 0)
end

-- `ids` (in idle order) by when each was last offered a contact, earliest first; ties
-- keep idle order. Round robin then stops at the first eligible agent, as longest idle
-- does, instead of reading every agent of the index.
local function in_offer_order(ids)
  if #ids == 0 then return ids end
  local times = redis.call('ZMSCORE', P .. 'offered', unpack(ids))
  local order = {}
  for i, id in ipairs(ids) do order[i] = {id = id, at = tonumber(times[i]) or 0, i = i} end
  table.sort(order, function(x, y) return x.at < y.at or (x.at == y.at and x.i < y.i) end)
  local sorted = {}
  for i, entry in ipairs(order) do sorted[i] = entry.id end
  return sorted
end

-- True when the first eligible agent of an index (ordered by idle time) is that
-- index's best: longest idle, and least occupied for voice, where every agent with
-- room has no load at all.
local function index_order_decides(strategy, channel)
  return strategy == 'longest_idle' or (strategy == 'least_occupied' and channel == 'voice')
end

-- Contact-driven choice: the best agent in the indexes for contact `c` under
-- relaxation `r`, and the candidates it was chosen among.
local function scan_indexes(c, q, r)
  local best, best_tier, best_score = nil, nil, nil
  local candidates = {}
  local seen = {}
  local strategy = q.strategy or 'longest_idle'
  local fields = SCAN_FIELDS[strategy] or SCAN_FIELDS.longest_idle
  local first_only = index_order_decides(strategy, c.channel)
  local by_offer = strategy == 'round_robin'
  local window = first_only and 8 or SCAN
  local barred = barred_agent(c)
  for _, region in ipairs(r.regions) do
    for _, language in ipairs(r.languages) do
      local index = P .. 'avail:' .. region .. ':' .. c.skill .. ':' .. language
      local start, stop = 0, false
      while not stop and start < SCAN do
        local ids = redis.call('ZRANGE', index, start, start + window - 1)
        if by_offer then ids = in_offer_order(ids) end
        local dropped = 0
        for _, id in ipairs(ids) do
          if not seen[id] and id ~= barred then
            seen[id] = true
            local a, proficiency = candidate(id, c.skill, fields)
            local fits = indexed_for(a.ix, c.channel)
            if (a.ix or '') == '' then
              -- In an index but not indexed (or gone): an index out of step.
              redis.call('ZREM', index, id)
              reindex(id)
              dropped = dropped + 1
            elseif fits and proficiency >= r.min_proficiency and proficiency > 0 then
              local tier = tier_of(c, region, language)
              local score = strategy_score(strategy, a, proficiency)
              candidates[#candidates + 1] = id
              if best == nil or tier < best_tier or (tier == best_tier and score < best_score) then
                best, best_tier, best_score = id, tier, score
              end
              -- Most skilled: nobody later in this index beats the top proficiency.
              if first_only or by_offer or (strategy == 'most_skilled' and proficiency >= MAX_PROFICIENCY) then
                stop = true
                break
              end
            end
          end
        end
        if #ids < window then stop = true end
        start = start + window - dropped
      end
    end
  end
  return best, candidates
end

-- The chosen agent, its AGENT_FIELDS (checked: it has room) and the candidates. An
-- agent found without room would mean a stale index: it is put right and the scan
-- runs again.
local function best_agent(c, q, r)
  local preferred = preferred_of(c)
  if preferred then
    local a = agent_fields(preferred, AGENT_FIELDS)
    if a and has_room(a, c.channel) then return preferred, a, {preferred} end
    return nil, nil, {}
  end
  for _ = 1, 3 do
    local best, candidates = scan_indexes(c, q, r)
    if best == nil then return nil, nil, candidates end
    local a = agent_fields(best, AGENT_FIELDS)
    if a and has_room(a, c.channel) then return best, a, candidates end
    reindex(best)
  end
  return nil, nil, {}
end

local function explain(c, r, strategy, agent, candidates, how)
  local shown = {}
  for i = 1, math.min(#candidates, 5) do shown[i] = candidates[i] end
  return string.format('%s: step=%s strategy=%s languages=%s regions=%s min_proficiency=%d -> %s among %d candidates [%s]',
    how, r.step, strategy or 'longest_idle', table.concat(r.languages, '|'), table.concat(r.regions, '|'),
    r.min_proficiency, agent, #candidates, table.concat(shown, ','))
end

-- The explanation field with `line` appended (the last 12 lines are kept).
local function with_line(previous, line)
  local lines = (previous and previous ~= '') and cjson.decode(previous) or {}
  lines[#lines + 1] = line
  while #lines > 12 do table.remove(lines, 1) end
  return cjson.encode(lines)
end

local function add_explanation(ckey, line)
  redis.call('HSET', ckey, 'explanation', with_line(redis.call('HGET', ckey, 'explanation'), line))
end

-- What an agent's load shows, as router/model.py Agent.state reads it: busy (serving
-- more than rings), reserved (ringing) or free. The agent's load_since is when it last
-- changed (change_agent, accept): when a busy or reserved state began, or when the last
-- contact left the agent (its wrap-up, if any, from then), for the wallboard's "time
-- in state" (switchboard/http/views.py, state_since_ms).
local function load_shown(a)
  local load, offers = num(a.load_voice, 0) + num(a.load_chat, 0), num(a.offers, 0)
  return load > offers and 'busy' or (offers > 0 and 'reserved' or 'free')
end

-- Changes agent `aid` by `delta` slots of `channel` and `offer_delta` offers, sets the
-- fields in `set`, and keeps its indexes in step: one HMGET (none when the caller has
-- just read the agent's AGENT_FIELDS as `a`) and one HSET. Returns the agent as it now
-- stands (nil when it does not exist).
local function change_agent(aid, channel, delta, offer_delta, set, a)
  a = a or agent_fields(aid, AGENT_FIELDS)
  if a == nil then return nil end
  local shown = load_shown(a)
  local load_field = 'load_' .. channel
  a[load_field] = math.max(0, num(a[load_field], 0) + delta)
  local changes = {load_field, a[load_field]}
  if offer_delta ~= 0 then
    a.offers = math.max(0, num(a.offers, 0) + offer_delta)
    changes[#changes + 1] = 'offers'
    changes[#changes + 1] = a.offers
  end
  for name, value in pairs(set or {}) do
    a[name] = value
    changes[#changes + 1] = name
    changes[#changes + 1] = value
  end
  if load_shown(a) ~= shown then
    changes[#changes + 1] = 'load_since'
    changes[#changes + 1] = now
  end
  index_changes(aid, a, changes)
  redis.call('HSET', P .. 'agent:' .. aid, unpack(changes))
  return a
end

-- The agent's side of an offer: a slot taken, the ring timer started, the contact in
-- the agent's held set, the event out. It rings for the queue's `ring_ms`, or for the
-- agent's own ring time when that is longer (an agent who needs more time to answer).
local function hold_agent(cid, c, aid, line, ring_ms, a)
  a = change_agent(aid, c.channel, 1, 1, {last_offer = now}, a) or {}
  ring_ms = math.max(ring_ms, num(a.ring_s, 0) * 1000)
  redis.call('ZADD', P .. 'offered', now, aid)
  redis.call('ZADD', P .. 'offers', now + ring_ms, cid)
  redis.call('SADD', P .. 'held:' .. aid, cid)
  publish({type = 'offer', contact_id = cid, agent_id = aid, channel = c.channel, queue = c.queue,
    language = c.language, region = c.region, customer_id = c.customer_id or '', sip_uri = a.sip_uri or '',
    tier = c.customer_tier or 'standard', priority = num(c.priority, 0), queued_at = num(c.queued_at, now),
    node = c.node or '', agent_node = a.node or '', callback_uri = c.callback_uri or '',
    ring_s = ring_ms / 1000, explanation = line})
end

-- Offers waiting contact `c` (as the caller read it in this call) to agent `aid`.
local function offer(cid, c, aid, line, r, a)
  local ckey = P .. 'contact:' .. cid
  local q = qcfg(c.queue) or {}
  redis.call('ZREM', P .. 'queue:' .. c.queue, cid)
  redis.call('ZREM', P .. 'due', cid)
  clear_preference(cid, c)
  redis.call('HSET', ckey, 'state', 'offered', 'agent_id', aid, 'step', r.step,
    'matched_languages', table.concat(r.languages, '|'), 'explanation', with_line(c.explanation, line))
  -- offered_at is the offer that was answered first: a contact offered again after its
  -- answer (a transfer, a requeue) keeps it, as it keeps answered_at.
  if (c.answered_at or '') == '' then redis.call('HSET', ckey, 'offered_at', now) end
  hold_agent(cid, c, aid, line, qnum(q, 'ring_s') * 1000, a)
  return {cid, aid}
end

local function try_match_contact(cid, c)
  local ckey = P .. 'contact:' .. cid
  c = c or hgetall(ckey)
  if not c or c.state ~= 'queued' or retry_pending(c) then return nil end
  local q = qcfg(c.queue)
  if not q then return nil end
  local r = relaxation(c, q, waited_ms(c))
  local agent, a, candidates = best_agent(c, q, r)
  if agent == nil then
    if c.step ~= r.step then redis.call('HSET', ckey, 'step', r.step) end
    return nil
  end
  return offer(cid, c, agent, explain(c, r, q.strategy, agent, candidates, 'contact routed'), r, a)
end

-- Agent-driven choice: the contact this agent should take next, over all queues.
-- A queued contact waiting for this agent (preferred), if any and the agent has room.
local function preferred_contact_for(aid, a)
  for _, cid in ipairs(redis.call('SMEMBERS', P .. 'preferred:' .. aid)) do
    local c = hgetall(P .. 'contact:' .. cid)
    if c and c.state == 'queued' and preferred_of(c) == aid then
      local q = qcfg(c.queue)
      if q and has_room(a, c.channel) then
        local r = relaxation(c, q, waited_ms(c))
        r.step = 'preferred'
        return cid, r, q, c
      end
    else
      redis.call('SREM', P .. 'preferred:' .. aid, cid)
    end
  end
  return nil
end

local function best_contact_for(aid, a)
  local cid, pr, pq, pc = preferred_contact_for(aid, a)
  if cid then return cid, pr, pq, pc end
  local speaks = {}
  for _, language in ipairs(cjson.decode(a.languages or '[]')) do speaks[language] = true end
  local best, best_key, best_r, best_q, best_c = nil, nil, nil, nil, nil
  local served = queue_skills()
  -- A skill no queue routes on is an IVR reason's, which contacts of any queue may carry:
  -- an agent with one looks at every queue's head, others only at their queues'.
  local routed_on, reason_skilled = {}, false
  for i = 2, #served, 2 do routed_on[served[i]] = true end
  for field, _ in pairs(a) do
    local skill = string.match(field, '^p:(.+)$')
    if skill and not routed_on[skill] then reason_skilled = true end
  end
  for i = 1, #served, 2 do
    local qname, skill = served[i], served[i + 1]
    local looks = reason_skilled or a['p:' .. skill] ~= nil
    local head = looks and redis.call('ZRANGE', P .. 'queue:' .. qname, 0, HEAD - 1) or {}
    local q = #head > 0 and qcfg(qname)
    if q then
      for _, cid in ipairs(head) do
        local c = hgetall(P .. 'contact:' .. cid)
        -- The contact's own skill (an IVR reason's) when it has one, else the queue's.
        local proficiency = num(a['p:' .. ((c and c.skill ~= '' and c.skill) or skill)], 0)
        local waits_for = c and preferred_of(c)
        if c and c.state == 'queued' and barred_agent(c) ~= aid and proficiency > 0
            and (waits_for == nil or waits_for == aid) and has_room(a, c.channel) then
          local r = relaxation(c, q, waited_ms(c))
          local language_ok, region_ok = false, false
          for _, language in ipairs(r.languages) do if speaks[language] then language_ok = true end end
          for _, region in ipairs(r.regions) do if region == a.region then region_ok = true end end
          if language_ok and region_ok and proficiency >= r.min_proficiency then
            -- Higher queue priority first, then the longest effective wait.
            local key = {-qnum(q, 'priority'), num(redis.call('ZSCORE', P .. 'queue:' .. qname, cid), now)}
            if best == nil or key[1] < best_key[1] or (key[1] == best_key[1] and key[2] < best_key[2]) then
              best, best_key, best_r, best_q, best_c = cid, key, r, q, c
            end
            break  -- the queue is ordered: the first eligible contact is this queue's best
          end
        end
      end
    end
  end
  return best, best_r, best_q, best_c
end

-- `how` heads each offer's explanation: 'agent freed' unless the caller says why the
-- agent looks at the queues now (an admin's edit: 'agent changed').
local function try_match_agent(aid, how)
  local offers = {}
  local _, queue_keys = queue_skills()
  -- Nobody waiting in any queue (an empty list does not exist): nothing to look at.
  if #queue_keys == 0 or redis.call('EXISTS', P .. 'preferred:' .. aid, unpack(queue_keys)) == 0 then
    return offers
  end
  for _ = 1, 8 do
    local a = hgetall(P .. 'agent:' .. aid)
    if not a or not (has_room(a, 'voice') or has_room(a, 'chat')) then break end
    local cid, r, q, c = best_contact_for(aid, a)
    if cid == nil then break end
    local line = explain(c, r, q.strategy, aid, {aid}, how or 'agent freed')
    offers[#offers + 1] = offer(cid, c, aid, line, r)
  end
  return offers
end

-- Contacts ending ------------------------------------------------------------------

-- `c` is the finished contact, as just written.
local function record(cid, c)
  local fields = {}
  for _, f in ipairs({'contact_id', 'channel', 'queue', 'region', 'language', 'customer_id', 'customer_tier',
      'priority', 'agent_id', 'state', 'reason', 'node', 'queued_at', 'offered_at', 'answered_at', 'ended_at',
      'placement', 'arrived_at', 'call_arrived_at', 'ivr_done_at', 'callback_uri', 'holds',
      'answered_queue', 'answered_agent', 'transferred_to', 'handled_by', 'moved_before_answer',
      'short_abandon'}) do
    fields[#fields + 1] = f
    fields[#fields + 1] = c[f] or ''
  end
  -- The queue it first entered (move_contact keeps it when it first moves; never moved,
  -- where it was answered or ended), so that reports see a queue it overflowed out of.
  local entered = c.entered_queue or ''
  if entered == '' then entered = (c.answered_queue or '') ~= '' and c.answered_queue or c.queue end
  fields[#fields + 1] = 'entered_queue'
  fields[#fields + 1] = entered or ''
  redis.call('XADD', P .. 'records', 'MAXLEN', '~', 1000000, '*', unpack(fields))
  redis.call('SREM', P .. 'live', cid)
  if c.node and c.node ~= '' then redis.call('SREM', P .. 'live:' .. c.node, cid) end
end

-- A connected contact leaves its agent's hands (completed, transferred, requeued, handed
-- over, failed): the leg since leg_since (its accept or hand-over) is added to handled_by,
-- 'agent@queue:ms' legs space-separated in order (agent ids hold no space, queue names
-- no '@' or ':'), so that reports split handle time by who held it and where.
local function end_leg(cid, c)
  local aid, since = c.agent_id or '', num(c.leg_since, 0)
  if c.state ~= 'connected' or aid == '' or since == 0 then return end
  local leg = string.format('%s@%s:%d', aid, c.queue, now - since)
  c.handled_by = (c.handled_by or '') == '' and leg or (c.handled_by .. ' ' .. leg)
  c.leg_since = nil
  redis.call('HSET', P .. 'contact:' .. cid, 'handled_by', c.handled_by)
  redis.call('HDEL', P .. 'contact:' .. cid, 'leg_since')
end

-- A completed contact's handle time in the counters, as reports count it: each queue
-- its agents held it in (its legs, handled_by) handled it once, for the legs there; the
-- time it waited between agents (a transfer, a requeue) is nobody's. One with no legs
-- (connected before legs were kept) counts from its first answer, in its queue.
local function stat_handled(c)
  local held, order = {}, {}
  for leg in string.gmatch(c.handled_by or '', '%S+') do
    local q, ms = string.match(leg, '@([^@]*):(%d+)$')
    if q then
      if not held[q] then held[q], order[#order + 1] = 0, q end
      held[q] = held[q] + tonumber(ms)
    end
  end
  if #order == 0 then
    stat(c.queue, now, 'handled')
    stat(c.queue, now, 'handle_ms', now - num(c.answered_at, now))
  end
  for _, q in ipairs(order) do
    stat(q, now, 'handled')
    stat(q, now, 'handle_ms', held[q])
  end
end

-- A contact that is offered or connected holds a slot of its agent: give it back and
-- stop the ring timer. Returns the agent's id, or nil when the contact held nothing.
local function release_hold(cid, c)
  local aid = c.agent_id
  if not aid or aid == '' or (c.state ~= 'offered' and c.state ~= 'connected') then return nil end
  end_leg(cid, c)
  change_agent(aid, c.channel, -1, c.state == 'offered' and -1 or 0)
  redis.call('ZREM', P .. 'offers', cid)
  redis.call('SREM', P .. 'held:' .. aid, cid)
  return aid
end

-- A warm transfer's colleague held for the consultation (commands.consult): their slot
-- back and the contact's fields gone. Returns the colleague, or nil.
local function release_consult(cid, c)
  local held = c.consult_agent or ''
  if held == '' then return nil end
  local ckey = P .. 'contact:' .. cid
  redis.call('HDEL', ckey, 'consult_agent', 'consult_step')
  change_agent(held, 'voice', -1, c.consult_step == 'ringing' and -1 or 0)
  add_explanation(ckey, string.format('consultation with %s ended', held))
  c.consult_agent, c.consult_step = nil, nil
  return held
end

-- Ends a contact (any outcome); a colleague still held for its consultation (the node
-- running the call died) is let go and offered what waits.
local function finish(cid, c, state, reason)
  local ckey = P .. 'contact:' .. cid
  local consulted = release_consult(cid, c)
  clear_preference(cid, c)
  redis.call('HSET', ckey, 'state', state, 'reason', reason or '', 'ended_at', now)
  if (c.agent_id or '') ~= '' then redis.call('SREM', P .. 'held:' .. c.agent_id, cid) end
  if c.state == 'queued' then
    redis.call('ZREM', P .. 'queue:' .. c.queue, cid)
    redis.call('ZREM', P .. 'callbacks', cid)
  end
  if c.state ~= 'connected' then  -- accepting stopped the ring timer; offering, the due timer
    redis.call('ZREM', P .. 'offers', cid)
    redis.call('ZREM', P .. 'due', cid)
  end
  c.state, c.reason, c.ended_at = state, reason or '', now
  -- A chat's customer windows are judged no more (router/store.py, Keys.customer_windows).
  redis.call('ZREM', P .. 'customer_windows_due', cid)
  redis.call('DEL', P .. 'customer_windows:' .. cid)
  record(cid, c)
  publish({type = 'contact_closed', contact_id = cid, agent_id = c.agent_id or '', state = state,
    reason = reason or '', node = c.node or '', queue = c.queue, channel = c.channel})
  if consulted then try_match_agent(consulted) end
end

-- A contact whose skill is its queue's (skill_from) and the queue's skill changed since
-- it was set (an admin's PUT): it takes the new one, and its explanation says so. True
-- when it changed.
local function follow_queue_skill(cid, c, q)
  if c.skill_from ~= 'queue' or (q.skill or '') == '' or c.skill == q.skill then return false end
  local ckey = P .. 'contact:' .. cid
  local line = string.format('queue %s now routes skill %s (was %s)', c.queue, q.skill, c.skill or '')
  -- Read again: the caller may have added a line since it read the contact.
  c.explanation = with_line(redis.call('HGET', ckey, 'explanation'), line)
  c.skill = q.skill
  redis.call('HSET', ckey, 'skill', c.skill, 'explanation', c.explanation)
  return true
end

local function requeue_at_head(cid, c)
  redis.call('HSET', P .. 'contact:' .. cid, 'state', 'queued', 'agent_id', '')
  redis.call('ZADD', P .. 'queue:' .. c.queue, num(c.order, now), cid)
  local q = qcfg(c.queue)
  if q then
    follow_queue_skill(cid, c, q)  -- ringing or served when its queue's skill changed
    schedule_due(cid, entered_at(c), q, c)
  end
end

-- Outcomes shared by several commands -------------------------------------------

-- Offers ended for these reasons make the agent not ready, with this reason: nobody
-- answered (RONA), their phone answered busy (on another call, do-not-disturb), or it
-- could not be reached at all (not registered, switched off, off the network: the
-- desk asks the agent to check it). Each says nobody takes calls there for now.
local NOT_READY_AFTER = {
  no_answer = 'no answer', phone_busy = 'phone busy', phone_unreachable = 'phone unreachable',
}

-- Ends an offer: the agent's slot back, the contact back at the head of its queue (and
-- offered again at once when someone else fits). The NOT_READY_AFTER reasons put the
-- agent not-ready; any other reason keeps the contact from that agent for DECLINE_BAR_MS. Either
-- way the agent's turn as the contact's preferred agent is over. An offer ending never
-- brings an offline agent back: one who signed out stays offline. Returns the agent the
-- contact went to next, or nil.
local function end_offer(cid, c, aid, reason)
  local ckey = P .. 'contact:' .. cid
  redis.call('ZREM', P .. 'offers', cid)
  redis.call('SREM', P .. 'held:' .. aid, cid)
  local away = NOT_READY_AFTER[reason]
  local rona = away ~= nil
  local a = agent_fields(aid, AGENT_FIELDS)
  local not_ready = rona and a ~= nil and a.presence ~= 'offline'
  local away_now = not_ready and {presence = 'not_ready', reason = away, presence_since = now} or nil
  change_agent(aid, c.channel, -1, -1, away_now, a)
  if not_ready then
    publish({type = 'state', agent_id = aid, presence = 'not_ready', reason = away})
  end
  c.declined_by, c.declined_until = aid, rona and 0 or now + DECLINE_BAR_MS
  -- offer_ended_*: the agent's late answer is told why (router/access.py refuse_late_act)
  redis.call('HSET', ckey, 'declined_by', aid, 'declined_until', c.declined_until,
    'offer_ended_for', aid, 'offer_ended_why', reason)
  add_explanation(ckey, string.format('offer to %s ended: %s; back to the head of %s', aid, reason, c.queue))
  requeue_at_head(cid, c)
  publish({type = 'offer_revoked', contact_id = cid, agent_id = aid, reason = reason, node = c.node or ''})
  local matched = try_match_contact(cid)
  if not rona then try_match_agent(aid) end
  return matched and matched[2] or nil
end

-- An agent going offline (signed out, every session ended, set offline, removed) keeps
-- no customer waiting on them: each ringing offer ends as a decline does (reason `why`:
-- the contact back at the head of its queue, offered on at once when someone fits, the
-- agent's desktop told with offer_revoked), and each connected chat goes back to the
-- head of its queue for another agent (its transcript stays with it; the customer's
-- window hears contact_requeued, the explanation says why). A call in progress stays:
-- its media is on the agent's phone, and it ends as calls do. Reads the agent's own
-- held:<agent> set (an entry no longer theirs is dropped), so its cost is what the
-- agent holds, not the center's size. Returns the offers and chats given back.
-- The adoption of a lost node lets its agents go here too, saying `gone` in the
-- explanation ('lost with node X') and leaving their ringing calls alone (`chats_only`:
-- the phone that rings is not on that node; the ring time ends the offer).
local function let_go(aid, a, why, gone, chats_only)
  local revoked, requeued = 0, 0
  if num(a.offers, 0) + num(a.load_chat, 0) == 0 then return revoked, requeued end
  gone = gone or string.format('went offline (%s)', why)
  local hkey = P .. 'held:' .. aid
  for _, cid in ipairs(redis.call('SMEMBERS', hkey)) do
    local held = redis.call('HMGET', P .. 'contact:' .. cid, 'agent_id', 'state', 'channel')
    if held[1] ~= aid or (held[2] ~= 'offered' and held[2] ~= 'connected') then
      redis.call('SREM', hkey, cid)
    elseif (held[2] == 'offered' and not chats_only) or held[3] == 'chat' then
      local c = hgetall(P .. 'contact:' .. cid)
      if c.state == 'offered' then
        end_offer(cid, c, aid, why)
        revoked = revoked + 1
      else
        release_hold(cid, c)
        add_explanation(P .. 'contact:' .. cid, string.format('agent %s %s; back to the head of %s',
          aid, gone, c.queue))
        requeue_at_head(cid, c)
        publish({type = 'contact_requeued', contact_id = cid, agent_id = aid, reason = why, queue = c.queue,
          channel = c.channel, node = c.node or ''})
        try_match_contact(cid)
        requeued = requeued + 1
      end
    end
  end
  return revoked, requeued
end

-- How long a required wrap-up code is waited for: as long as wrapup_pending is kept.
local CODE_OWED_S = 86400
local CODE_OWED_MS = CODE_OWED_S * 1000

-- Ends a connected contact as completed; its agent goes to wrap-up. When the contact's
-- queue requires a wrap-up code (the set wrapup_required, published by the node from
-- [[dispositions]]), the wrap-up does not end by itself: the agent has room for nothing
-- until they give the code (wrap_up_given), or a day has passed.
local function complete_contact(cid, c, reason)
  local aid = c.agent_id
  local q = qcfg(c.queue) or {}
  local until_ms = now + qnum(q, 'wrap_up_s') * 1000
  local set = {wrapup_until = until_ms, idle_since = until_ms}
  if redis.call('SISMEMBER', P .. 'wrapup_required', c.queue) == 1 then
    set.code_owed_until = now + CODE_OWED_MS
  end
  local a = change_agent(aid, c.channel, -1, 0, set)
  -- The tick ends a wrap-up that lasts (or a code owed for too long); one of no length
  -- ends here.
  local ends = math.max(until_ms, num(a and a.code_owed_until, 0))
  if ends > now then redis.call('ZADD', P .. 'wrapups', ends, aid) end
  -- Waits for the agent's wrap-up (a code, a note) until given or a day has passed.
  local pending = P .. 'wrapup_pending:' .. aid
  redis.call('SADD', pending, cid)
  redis.call('EXPIRE', pending, CODE_OWED_S)
  end_leg(cid, c)
  stat_handled(c)
  finish(cid, c, 'completed', reason)
  if ends <= now then try_match_agent(aid) end
end

-- Ends a contact whose customer left while it waited or rang: abandoned when it was
-- never answered. One answered before (then transferred, or requeued when its agent was
-- lost) was no abandon: it ends completed, ended by the customer, its handle time its
-- agents' legs; no agent holds it, so nobody goes to wrap-up for it.
local function abandon_contact(cid, c, reason)
  local answered = (c.answered_at or '') ~= ''
  local aid = release_hold(cid, c)
  if aid then
    publish({type = 'offer_revoked', contact_id = cid, agent_id = aid,
      reason = answered and 'customer_left' or 'abandoned', node = c.node or ''})
  end
  if answered then
    stat_handled(c)
    if aid then  -- only offered to them: the record names nobody who never took it
      redis.call('HSET', P .. 'contact:' .. cid, 'agent_id', '', 'left_ringing_at', aid)
      c.agent_id = ''
    end
    finish(cid, c, 'completed', reason)
    if aid then try_match_agent(aid) end
    return
  end
  if aid then  -- ringing at them: an abandon is the queue's, not an agent's who never took it
    add_explanation(P .. 'contact:' .. cid, string.format('the customer left while it rang at %s', aid))
    -- who it rang at: their late answer is told the customer left (router/access.py)
    redis.call('HSET', P .. 'contact:' .. cid, 'agent_id', '', 'left_ringing_at', aid)
    c.agent_id = ''
  end
  local q = qcfg(c.queue) or {}
  local wait = now - num(c.queued_at, now)
  -- A short abandon (left sooner than the queue's short_abandon_s: a misdial, a chat
  -- opened by mistake) is counted apart, in no abandon figure, rate or patience; the
  -- record and the contact keep the mark (short_abandon 1), judged by the threshold now,
  -- so an admin's later change does not rewrite the past.
  if wait < qnum(q, 'short_abandon_s') * 1000 then
    c.short_abandon = '1'
    redis.call('HSET', P .. 'contact:' .. cid, 'short_abandon', '1')
    stat(c.queue, now, 'short_abandoned')
  else
    stat(c.queue, now, 'abandoned')
    stat(c.queue, now, 'abandon_wait_ms', wait)
    if wait <= qnum(q, 'answer_within_s') * 1000 then stat(c.queue, now, 'abandoned_in_sl') end
  end
  finish(cid, c, 'abandoned', reason)
  if aid then try_match_agent(aid) end
end

-- Ends anything not yet terminal as failed; the agent it held is free for the next.
local function fail_contact(cid, c, reason)
  local aid = release_hold(cid, c)
  stat(c.queue, now, 'failed')
  finish(cid, c, 'failed', reason)
  if aid then try_match_agent(aid) end
end

-- Whether answered contact `c` was offered in queue `q` already: where it was answered,
-- or a queue it was transferred to since.
local function offered_in(c, q)
  if q == ((c.answered_queue or '') ~= '' and c.answered_queue or c.queue) then return true end
  for moved in string.gmatch(c.transferred_to or '', '%S+') do
    if moved == q then return true end
  end
  return false
end

-- Moves a contact to queue `target` (configuration `q`), keeping its place by arrival
-- time, and offers it at once when an agent there fits. A ringing offer is revoked (its
-- agent is told: offer_revoked, reason 'moved'). A connected contact is moved only by
-- its own agent (a transfer): that agent is kept from it for DECLINE_BAR_MS, as a
-- decliner is, so that anyone else who fits takes it first and it comes back to them
-- only when nobody else has.
local function move_contact(cid, c, target, q, reason, preferred, prefer_until)
  local ckey = P .. 'contact:' .. cid
  local was = c.state
  local freed = release_hold(cid, c)
  if freed and was == 'offered' then
    publish({type = 'offer_revoked', contact_id = cid, agent_id = freed, reason = 'moved', node = c.node or ''})
    redis.call('HSET', ckey, 'offer_ended_for', freed, 'offer_ended_why', 'moved to ' .. target)
  end
  local bar_agent = was == 'connected' and freed or ''
  clear_preference(cid, c)
  -- The record keeps the queue it first entered and how often it was moved before its
  -- answer (a supervisor's move, an overflow): reports count it moved out of that queue.
  if (c.entered_queue or '') == '' then
    c.entered_queue = c.queue
    redis.call('HSET', ckey, 'entered_queue', c.queue)
  end
  if (c.answered_at or '') == '' then
    c.moved_before_answer = num(c.moved_before_answer, 0) + 1
    redis.call('HSET', ckey, 'moved_before_answer', c.moved_before_answer)
  end
  redis.call('ZREM', P .. 'queue:' .. c.queue, cid)
  redis.call('HSET', ckey, 'queue', target, 'skill', q.skill, 'skill_from', 'queue',
    'queue_entered_at', now, 'state', 'queued',
    'agent_id', '', 'step', 'exact', 'preferred_agent', preferred or '', 'prefer_until', prefer_until or 0,
    'declined_by', bar_agent, 'declined_until', bar_agent ~= '' and now + DECLINE_BAR_MS or 0)
  if (preferred or '') ~= '' then
    redis.call('SADD', P .. 'preferred:' .. preferred, cid)
    reason = string.format('%s; %s first until the ring time ends', reason, preferred)
  end
  if bar_agent ~= '' then
    reason = string.format('%s; others before %s for %d s', reason, bar_agent, DECLINE_BAR_MS / 1000)
  end
  add_explanation(ckey, string.format('moved from %s to %s: %s', c.queue, target, reason))
  -- A queue's offered contacts are those that end in it (answered, abandoned or failed
  -- there, as the records count them): one never answered takes its count along, on the
  -- day it arrived; one answered before (a transfer) stays offered where it was answered
  -- and is offered here too, once: a transfer to a colleague in a queue it was offered
  -- in already (its own, or back) is no new contact there.
  if (c.answered_at or '') == '' then
    local arrived = num(c.queued_at, now)
    stat(c.queue, arrived, 'offered', -1)
    stat(target, arrived, 'offered')
  elseif not offered_in(c, target) then
    stat(target, now, 'offered')
    -- The record says so (transferred_to: the queues it was offered to after its answer,
    -- in order), so that the report counts it offered there too.
    local moved = (c.transferred_to or '') == '' and target or (c.transferred_to .. ' ' .. target)
    redis.call('HSET', ckey, 'transferred_to', moved)
  end
  if retry_pending(c) then end_retry_wait(cid, c) end  -- a callback moved: due now, there
  redis.call('ZADD', P .. 'queue:' .. target, num(c.order, now), cid)
  if not try_match_contact(cid) then schedule_due(cid, now, q, hgetall(ckey)) end
  if freed then try_match_agent(freed) end
end

-- Replies ----------------------------------------------------------------------------
-- Every command answers one shape: {status, field, value, field, value, ...}; the
-- status is the outcome ('connected', 'queued'...) or a refusal ('unknown_contact',
-- 'not_offered'...), the fields whatever the caller needs next (router/store.py
-- decodes them in one place).

local function reply(status, fields)
  local flat = {status}
  for name, value in pairs(fields or {}) do
    flat[#flat + 1] = name
    flat[#flat + 1] = tostring(value)
  end
  return flat
end

-- The contact as it now stands, so that the caller needs no second round trip. (A
-- command that read the whole contact and mirrored every change into it answers with
-- reply(status, c) instead: no second HGETALL.)
local function contact_reply(status, cid)
  local flat = redis.call('HGETALL', P .. 'contact:' .. cid)
  table.insert(flat, 1, status)
  return flat
end

-- Commands -------------------------------------------------------------------------

local commands = {}

-- A customer's own chat: its start keeps the customer there for the grace (ms) from
-- now, and every node's sweep judges it from then on (router/store.py,
-- Keys.customer_windows). Written with the contact, so that a node that stops right
-- after creating a chat loses its timer only, never the chat's judgement.
local function watch_customer_windows(cid, grace, kept)
  local windows, until_ms = P .. 'customer_windows:' .. cid, string.format('%d', now + grace)
  redis.call('ZADD', windows, until_ms, 'start')
  redis.call('PEXPIRE', windows, string.format('%d', grace + kept))
  redis.call('ZADD', P .. 'customer_windows_due', until_ms, cid)
end

-- args: id, the new contact's fields as one JSON object of strings (one argument
-- instead of two dozen: cheaper to send, parse and unpack on both sides); for a
-- customer's own chat, the grace its window has to open (ms) and how long its windows
-- outlive their latest time (ms), else nothing.
function commands.create(argv)
  local cid = argv[3]
  local ckey = P .. 'contact:' .. cid
  if redis.call('EXISTS', ckey) == 1 then return reply('exists') end
  local c = cjson.decode(argv[4])
  local q = qcfg(c.queue)
  if not q then return reply('unknown_queue') end
  local credit = num(c.priority, 0) * qnum(q, 'priority_weight_s') * 1000
  local order = now - credit
  -- A contact may ask for a skill of its own (the IVR reason's), else the queue's, which
  -- it follows when the queue's changes (skill_from: 'queue'; commands.queue_skill).
  c.skill_from = (c.skill or '') == '' and 'queue' or 'contact'
  if c.skill_from == 'queue' then c.skill = q.skill end
  c.state, c.queued_at, c.queue_entered_at, c.order = 'queued', now, now, order
  -- Routed before it is stored, so that an offered contact is written once.
  local r = relaxation(c, q, 0)
  c.step = r.step
  local agent, held, candidates = best_agent(c, q, r)
  local line = nil
  if agent then
    line = explain(c, r, q.strategy, agent, candidates, 'contact routed')
    c.state, c.agent_id, c.offered_at, c.explanation = 'offered', agent, now, with_line(c.explanation, line)
    c.matched_languages = table.concat(r.languages, '|')
  end
  local fields = {}
  for name, value in pairs(c) do
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
  redis.call('HSET', ckey, unpack(fields))
  redis.call('SADD', P .. 'live', cid)
  if c.node and c.node ~= '' then redis.call('SADD', P .. 'live:' .. c.node, cid) end
  if not agent and preferred_of(c) then redis.call('SADD', P .. 'preferred:' .. c.preferred_agent, cid) end
  -- The customer's contacts, newest last (the agent desktop's customer history);
  -- retention removes those it scrubs (router/reports/store.py). An anonymous customer
  -- (`anon-`, router/identity.py) is their one contact's alone: no later contact reaches
  -- them, the desk shows the contact itself, so they get no history to outlive it.
  if (c.customer_id or '') ~= '' then
    local history = P .. 'customer:' .. c.customer_id
    if string.sub(c.customer_id, 1, 5) ~= 'anon-' then
      redis.call('ZADD', history, now, cid)
      redis.call('ZREMRANGEBYRANK', history, 0, -201)
    end
  end
  stat(c.queue, now, 'offered')
  if agent then
    hold_agent(cid, c, agent, line, qnum(q, 'ring_s') * 1000, held)
  else
    redis.call('ZADD', P .. 'queue:' .. c.queue, order, cid)
    schedule_due(cid, now, q, c)
  end
  if (argv[5] or '') ~= '' then watch_customer_windows(cid, tonumber(argv[5]), tonumber(argv[6])) end
  return reply(c.state, c)
end

-- What accepting reads of the contact ('state' is on every contact).
local ACCEPT_FIELDS = {'state', 'agent_id', 'queue', 'queued_at', 'node', 'channel', 'offered_at', 'ewt',
  'answered_at', 'callback_uri'}

-- The waits first announced to a queued caller ('at:<ms> <method>:<ms> ...', written by
-- router/waits.py) against the wait that followed: the queue announces the method with
-- the lowest error.
local function score_announced(c)
  local at = tonumber(string.match(c.ewt or '', '^at:(%d+)'))
  if not at then return end
  local waited = now - at
  for name, ms in string.gmatch(c.ewt, '(%a+):(%d+)') do
    if name ~= 'at' then stat(c.queue, now, 'ewt_err_' .. name, math.abs(tonumber(ms) - waited)) end
  end
  stat(c.queue, now, 'ewt_scored')
end

-- The contact's first answer, by agent `aid`: where and by whom, for the record (a later
-- transfer or requeue moves queue and agent_id, not the answer: reports count it here),
-- and the queue's answered counters, its wait and its departures.
local function mark_answered(cid, c, aid)
  redis.call('HSET', P .. 'contact:' .. cid, 'answered_at', now, 'answered_queue', c.queue,
    'answered_agent', aid)
  local q = qcfg(c.queue) or {}
  local wait = now - num(c.queued_at, now)
  stat(c.queue, now, 'answered')
  stat(c.queue, now, 'wait_ms', wait)
  if wait <= qnum(q, 'answer_within_s') * 1000 then stat(c.queue, now, 'answered_in_sl') end
  local waits = P .. 'waits:' .. c.queue
  if num(c.offered_at, 0) > num(c.queued_at, 0) then
    -- It waited in the queue: the time since the queue last moved (or since it came)
    -- is one gap between departures, which measures how fast the line really moves.
    local moved = math.max(num(redis.call('HGET', waits, 'last_at'), 0), num(c.queued_at, now))
    stat(c.queue, now, 'departures')
    stat(c.queue, now, 'departure_gap_ms', now - moved)
  end
  redis.call('HSET', waits, 'last_wait_ms', wait, 'last_at', now)
  score_announced(c)
end

-- What `relaxation` reads of a contact.
local REACH_FIELDS = {'queue', 'skill', 'language', 'region', 'channel', 'open_regions',
  'preferred_agent', 'prefer_until', 'declined_by'}

-- args: contact. Who could ever take it: the widest step its queue's rules reach
-- (`relaxation` with no end to the wait: languages with the fallbacks and a chat's
-- translation pairs, regions, proficiency) and its skill. Its own estimated wait counts
-- only the agents inside (router/waits.py, Reach); the one rule, read from here.
function commands.reach(argv)
  local c = fields_of(P .. 'contact:' .. argv[3], REACH_FIELDS)
  if not c then return reply('unknown_contact') end
  local q = qcfg(c.queue)
  if not q then return reply('unknown_queue') end
  local r = relaxation(c, q, math.huge)
  return reply('reach', {queue = c.queue, skill = (c.skill or '') ~= '' and c.skill or q.skill,
    languages = table.concat(r.languages, '|'), regions = table.concat(r.regions, '|'),
    min_proficiency = r.min_proficiency})
end

-- args: contact, agent.
function commands.accept(argv)
  local cid, aid = argv[3], argv[4]
  local ckey = P .. 'contact:' .. cid
  local c = fields_of(ckey, ACCEPT_FIELDS)
  if not c then return reply('unknown_contact') end
  if c.state ~= 'offered' or c.agent_id ~= aid then return reply('not_offered', {state = c.state}) end
  redis.call('ZREM', P .. 'offers', cid)
  local akey = P .. 'agent:' .. aid
  local offers = redis.call('HINCRBY', akey, 'offers', -1)
  if offers < 0 then redis.call('HSET', akey, 'offers', 0) end
  local held = redis.call('HMGET', akey, 'load_voice', 'load_chat')
  local was = load_shown({load_voice = held[1], load_chat = held[2], offers = offers + 1})
  if load_shown({load_voice = held[1], load_chat = held[2], offers = math.max(offers, 0)}) ~= was then
    redis.call('HSET', akey, 'load_since', now)
  end
  -- Its agent's leg starts now (end_leg), but a callback's only when its customer picks
  -- up (callback_answered): dialling with nobody on the line is not handle time.
  local unanswered_callback = (c.answered_at or '') == '' and (c.callback_uri or '') ~= ''
  redis.call('HSET', ckey, 'state', 'connected')
  if not unanswered_callback then redis.call('HSET', ckey, 'leg_since', now) end
  if (c.answered_at or '') ~= '' then
    -- Answered before (then transferred, or requeued when its agent was lost): this is
    -- a leg of the same conversation, not a new answer. answered_at, the wait and the
    -- queue's answered counters stay those of the first answer; the new agent's leg
    -- starts (end_leg).
    add_explanation(ckey, string.format('taken over by %s (answered first %d s before)', aid,
      math.floor((now - num(c.answered_at, now)) / 1000)))
  elseif (c.callback_uri or '') == '' then
    -- A callback is answered when its customer picks up (callback_answered): the
    -- agent's pick-up comes first, with nobody on the line yet.
    mark_answered(cid, c, aid)
  end
  publish({type = 'contact_connected', contact_id = cid, agent_id = aid, node = c.node or '', channel = c.channel})
  return contact_reply('connected', cid)
end

-- args: contact. The called-back customer picked up, the contact connected with its
-- agent: its answer, counted now.
function commands.callback_answered(argv)
  local cid = argv[3]
  local c = fields_of(P .. 'contact:' .. cid, ACCEPT_FIELDS)
  if not c then return reply('unknown_contact') end
  if c.state ~= 'connected' then return reply('not_connected', {state = c.state}) end
  if (c.answered_at or '') == '' then
    mark_answered(cid, c, c.agent_id)
    redis.call('HSET', P .. 'contact:' .. cid, 'leg_since', now)  -- its agent's leg starts
  end
  return contact_reply('connected', cid)
end

-- args: contact, agent, reason ('no_answer' puts the agent not-ready: RONA).
function commands.decline(argv)
  local cid, aid, reason = argv[3], argv[4], argv[5]
  local c = hgetall(P .. 'contact:' .. cid)
  if not c then return reply('unknown_contact') end
  if c.state ~= 'offered' or c.agent_id ~= aid then return reply('not_offered', {state = c.state}) end
  end_offer(cid, c, aid, reason)
  return contact_reply('declined', cid)
end

-- args: contact, agent ('' for anyone), reason. Ends a connected contact; the agent
-- goes to wrap-up.
function commands.complete(argv)
  local cid, aid = argv[3], argv[4]
  local c = hgetall(P .. 'contact:' .. cid)
  if not c then return reply('unknown_contact') end
  if TERMINAL[c.state] then return reply('already', {state = c.state}) end
  if c.state ~= 'connected' then return reply('not_connected', {state = c.state}) end
  if aid ~= '' and c.agent_id ~= aid then return reply('not_yours', {state = c.state}) end
  complete_contact(cid, c, argv[5] or '')
  return reply('completed', c)
end

-- args: contact, reason. The customer left before being connected (a connected
-- contact whose customer hangs up is completed instead, and so is one answered before
-- and waiting again after a transfer: abandon_contact).
function commands.abandon(argv)
  local cid, reason = argv[3], argv[4]
  local c = hgetall(P .. 'contact:' .. cid)
  if not c then return reply('unknown_contact') end
  if TERMINAL[c.state] then return reply('already', {state = c.state}) end
  if c.state == 'connected' then
    complete_contact(cid, c, reason)
  else
    abandon_contact(cid, c, reason)
  end
  return reply(c.state, c)
end

-- args: contact, who. A supervisor ends a chat still waiting in its queue, one nobody
-- will take (a back-office chat, a test): failed/ended_by_supervisor. One that rings or
-- is connected meanwhile is left to its agent (not_waiting).
function commands.end_waiting(argv)
  local cid, who = argv[3], argv[4]
  local ckey = P .. 'contact:' .. cid
  local c = hgetall(ckey)
  if not c then return reply('unknown_contact') end
  if c.state ~= 'queued' then return reply('not_waiting', {state = c.state}) end
  add_explanation(ckey, string.format('ended while waiting by %s', who))
  fail_contact(cid, c, 'ended_by_supervisor')
  return reply('failed', c)
end

-- args: contact, reason. Anything not yet terminal ends as failed.
function commands.fail(argv)
  local cid, reason = argv[3], argv[4]
  local c = hgetall(P .. 'contact:' .. cid)
  if not c then return reply('unknown_contact') end
  if TERMINAL[c.state] then return reply('already', {state = c.state}) end
  fail_contact(cid, c, reason)
  return reply('failed', c)
end

-- args: contact, the region's next opening (ms; 0: none to wait for). The called-back
-- customer did not pick up (their phone rang out, was busy or refused) while the agent
-- waited: another attempt after the queue's callback_retry_s, or at that opening if
-- later, while its callback_attempts last (1 when unset: none), else
-- failed/callback_unanswered. The agent is free at once (nobody was spoken to: no
-- wrap-up) and their desk told (contact_requeued); the contact waits out of its queue
-- (callbacks) and keeps its place there for the next attempt (the tick puts it back).
function commands.callback_unanswered(argv)
  local cid = argv[3]
  local ckey = P .. 'contact:' .. cid
  local c = hgetall(ckey)
  if not c then return reply('unknown_contact') end
  if TERMINAL[c.state] then return reply('already', {state = c.state}) end
  local q = qcfg(c.queue) or {}
  local attempt, attempts = num(c.callback_attempt, 1), math.max(qnum(q, 'callback_attempts'), 1)
  if attempt >= attempts or c.state ~= 'connected' then
    add_explanation(ckey, string.format('callback attempt %d of %d not answered; no attempt left',
      attempt, attempts))
    fail_contact(cid, c, 'callback_unanswered')
    return reply('failed', c)
  end
  local aid = release_hold(cid, c)
  local retry_s = qnum(q, 'callback_retry_s')
  local at = now + retry_s * 1000
  local opens = tonumber(argv[4] or '') or 0  -- the region's next opening, if later
  local held = opens > at
  if held then at = opens end
  redis.call('HSET', ckey, 'state', 'queued', 'agent_id', '', 'callback_attempt', attempt + 1,
    'callback_retry_at', at)
  redis.call('ZADD', P .. 'callbacks', at, cid)
  add_explanation(ckey, string.format('callback attempt %d of %d not answered; the next in %d s%s',
    attempt, attempts, math.floor((at - now) / 1000), held and ', when its region opens' or ''))
  publish({type = 'contact_requeued', contact_id = cid, agent_id = aid or '', reason = 'callback_unanswered',
    queue = c.queue, channel = c.channel, node = c.node or ''})
  if aid then try_match_agent(aid) end
  return contact_reply('queued', cid)
end

-- args: contact, target queue, reason, agent ('' for anyone: only the agent holding
-- the contact may move it then), and optionally an agent to offer it to first and
-- until when (a transfer to a named agent). A connected contact is moved only by its
-- agent (a transfer): anyone else is refused ('in_conversation'), so that nobody takes
-- a conversation from under its agent. With a queue as the last arg, only a contact
-- still in that queue is moved ('moved_meanwhile' otherwise): a kept escalation moved
-- later (router/cases/kept.py) leaves alone a contact a supervisor moved since.
function commands.move(argv)
  local cid, target, reason, aid = argv[3], argv[4], argv[5], argv[6] or ''
  local preferred, prefer_until = argv[7] or '', tonumber(argv[8] or '0') or 0
  local only_from = argv[9] or ''
  local c = hgetall(P .. 'contact:' .. cid)
  if not c then return reply('unknown_contact') end
  local q = qcfg(target)
  if not q then return reply('unknown_queue') end
  if TERMINAL[c.state] then return reply('already', {state = c.state}) end
  if only_from ~= '' and c.queue ~= only_from then
    return reply('moved_meanwhile', {state = c.state, queue = c.queue})
  end
  if aid ~= '' and c.agent_id ~= aid then return reply('not_yours', {state = c.state}) end
  if aid == '' and c.state == 'connected' then
    return reply('in_conversation', {state = c.state, agent_id = c.agent_id})
  end
  move_contact(cid, c, target, q, reason, preferred, prefer_until)
  return contact_reply('moved', cid)
end

-- args: queue, its skill before, then contact ids (the store passes those waiting in it,
-- a batch a call). The queue's skill changed (router/store.py publish_queues, after the
-- new rules are written): each of these contacts still queued in it whose skill is the
-- queue's follows the new one (a contact stored without skill_from, by an older version,
-- when its skill is the old one), with a line in its explanation, and is offered at once
-- when an agent fits. A contact with a skill of its own (an IVR reason's) keeps it.
-- Ringing and served contacts take it when they come back (requeue_at_head).
function commands.queue_skill(argv)
  local name, old = argv[3], argv[4]
  local q = qcfg(name)
  if not q then return reply('unknown_queue') end
  local changed, offered = 0, 0
  for i = 5, #argv do
    local cid = argv[i]
    local c = hgetall(P .. 'contact:' .. cid)
    if c and c.state == 'queued' and c.queue == name then
      if (c.skill_from or '') == '' and c.skill == old then
        c.skill_from = 'queue'
        redis.call('HSET', P .. 'contact:' .. cid, 'skill_from', 'queue')
      end
      if follow_queue_skill(cid, c, q) then
        changed = changed + 1
        if try_match_contact(cid, c) then offered = offered + 1 end
      end
    end
  end
  return reply('ok', {changed = changed, offered = offered})
end

-- args: queue. Takes the queue's routing rules away (qcfg, queue_skills, and a new
-- config_version so that no call keeps them) only when none of its contacts is open
-- (waiting, ringing or being served); 'open' with their count otherwise. One call, so
-- that no contact enters the queue between the count and the removal: afterwards a
-- create or a move into it is refused (unknown_queue). router/store.py removes the
-- queue's other keys after.
function commands.close_queue(argv)
  local name = argv[3]
  local open = 0
  for _, cid in ipairs(redis.call('SMEMBERS', P .. 'live')) do
    local f = redis.call('HMGET', P .. 'contact:' .. cid, 'queue', 'state')
    if f[1] == name and f[2] and not TERMINAL[f[2]] then open = open + 1 end
  end
  open = math.max(open, redis.call('ZCARD', P .. 'queue:' .. name))
  if open > 0 then return reply('open', {count = open}) end
  redis.call('DEL', P .. 'qcfg:' .. name)
  redis.call('HDEL', P .. 'queue_skills', name)
  local version = redis.call('GET', P .. 'config_version') or ''
  redis.call('SET', P .. 'config_version', string.format('%s/closed:%s@%d', version, name, now))
  return reply('closed')
end

-- args: contact, priority, reason. A waiting contact moves up (or down) its queue by the
-- credit the change of priority is worth; the contact keeps its place by arrival otherwise.
function commands.reprioritize(argv)
  local cid, priority, reason = argv[3], num(argv[4], 0), argv[5] or ''
  local ckey = P .. 'contact:' .. cid
  local c = hgetall(ckey)
  if not c then return reply('unknown_contact') end
  if TERMINAL[c.state] then return reply('already', {state = c.state}) end
  local old = num(c.priority, 0)
  local q = qcfg(c.queue)
  local order = num(c.order, now) - (priority - old) * (q and qnum(q, 'priority_weight_s') or 0) * 1000
  redis.call('HSET', ckey, 'priority', priority, 'order', order)
  if c.state == 'queued' and not retry_pending(c) then
    redis.call('ZADD', P .. 'queue:' .. c.queue, order, cid)
  end
  add_explanation(ckey, string.format('priority %d -> %d: %s', old, priority, reason))
  return contact_reply('reprioritized', cid)
end

-- args: agent, presence, reason. Going offline gives back what the agent holds
-- (let_go: ringing offers revoked, connected chats requeued).
function commands.presence(argv)
  local aid, presence, reason = argv[3], argv[4], argv[5]
  local akey = P .. 'agent:' .. aid
  local a = hgetall(akey)
  if not a then return reply('unknown_agent') end
  redis.call('HSET', akey, 'presence', presence, 'reason', reason or '')
  if presence ~= a.presence then redis.call('HSET', akey, 'presence_since', now) end
  if presence == 'available' and a.presence ~= 'available' then
    redis.call('HSET', akey, 'idle_since', math.max(now, num(a.wrapup_until, 0)))
  end
  if presence == 'offline' then unindex(aid, a) else reindex(aid) end
  publish({type = 'state', agent_id = aid, presence = presence, reason = reason or ''})
  local offers, revoked, requeued = {}, 0, 0
  if presence == 'offline' then revoked, requeued = let_go(aid, a, reason ~= '' and reason or 'offline') end
  if presence == 'available' then offers = try_match_agent(aid) end
  return reply(presence, {offers = #offers, revoked = revoked, requeued = requeued})
end

-- args: agent, node. The agent's desk follows their events from this node (its socket
-- opened here): the agent is this node's from now on (and `desk_node` says where the
-- desk is, which a later sign-in through another node keeps: login), so that the death
-- of the node a balancer sent a sign-in to does not sign out a desk that runs
-- elsewhere. Nothing for an agent signed out.
function commands.attach(argv)
  local akey = P .. 'agent:' .. argv[3]
  local presence = redis.call('HGET', akey, 'presence')
  if not presence or presence == 'offline' then return reply('offline') end
  redis.call('HSET', akey, 'node', argv[4], 'desk_node', argv[4])
  return reply('attached')
end

-- args: agent, node. The desk's socket on this node closed: no desk keeps the agent
-- here any more (one opened since on another node is that node's, and stays).
function commands.detach(argv)
  local akey = P .. 'agent:' .. argv[3]
  if redis.call('HGET', akey, 'desk_node') == argv[4] then
    redis.call('HDEL', akey, 'desk_node')
  end
  return reply('detached')
end

-- args: agent, SIP URI, node, voice capacity, chat capacity ('' for the roster's). A
-- sign-in: where to ring the agent and what it may hold. Its indexes follow the new
-- capacity at once, and an available agent with more room than before is offered
-- waiting contacts. An agent ready already is said to be ready again (`state`): their
-- new channels may take what waits for them elsewhere (a kept escalation,
-- router/cases/kept.py).
function commands.login(argv)
  local aid = argv[3]
  local akey = P .. 'agent:' .. aid
  local a = hgetall(akey)
  if not a then return reply('unknown_agent') end
  -- An agent stored before the roster's capacity was kept apart has only cap_*.
  local voice = argv[6] ~= '' and argv[6] or (a.roster_voice or a.cap_voice or 1)
  local chat = argv[7] ~= '' and argv[7] or (a.roster_chat or a.cap_chat or 3)
  -- signed in again while a desk of theirs is open on a node (attach): that node keeps
  -- them, whichever node this sign-in came through
  local desk = (a.presence or 'offline') ~= 'offline' and (a.desk_node or '') or ''
  local node = desk ~= '' and desk or argv[5]
  redis.call('HSET', akey, 'sip_uri', argv[4], 'node', node, 'cap_voice', voice, 'cap_chat', chat)
  reindex(aid)
  if a.presence == 'available' then
    publish({type = 'state', agent_id = aid, presence = 'available', reason = a.reason or ''})
  end
  local offers = try_match_agent(aid)
  return reply('ok', {offers = #offers})
end

-- args: agent, contact. The agent's wrap-up of a finished contact is in: no longer
-- pending. Once the agent owes no code of a queue that requires one, its wrap-up ends
-- with its time (at once when that is over, and waiting contacts are offered).
function commands.wrap_up_given(argv)
  local aid, cid = argv[3], argv[4]
  local pending = P .. 'wrapup_pending:' .. aid
  redis.call('SREM', pending, cid)
  local a = agent_fields(aid, AGENT_FIELDS)
  if a == nil or num(a.code_owed_until, 0) == 0 then return reply('ok') end
  for _, other in ipairs(redis.call('SMEMBERS', pending)) do
    local queue = redis.call('HGET', P .. 'contact:' .. other, 'queue')
    if queue and redis.call('SISMEMBER', P .. 'wrapup_required', queue) == 1 then
      return reply('owed', {contact_id = other})
    end
  end
  local until_ms = num(a.wrapup_until, 0)
  local changes = {'code_owed_until', 0, 'idle_since', math.max(now, until_ms)}
  a.code_owed_until, a.idle_since = 0, math.max(now, until_ms)
  index_changes(aid, a, changes)
  redis.call('HSET', P .. 'agent:' .. aid, unpack(changes))
  local presence, reason = unpack(redis.call('HMGET', P .. 'agent:' .. aid, 'presence', 'reason'))
  publish({type = 'state', agent_id = aid, presence = presence or '', reason = reason or ''})
  if until_ms > now then
    redis.call('ZADD', P .. 'wrapups', until_ms, aid)
  else
    redis.call('ZREM', P .. 'wrapups', aid)
    try_match_agent(aid)
  end
  return reply('ok')
end

-- args: agent, then field/value pairs (region, skills, languages, capacities...).
function commands.upsert_agent(argv)
  local aid = argv[3]
  local akey = P .. 'agent:' .. aid
  local old = hgetall(akey)
  if old then unindex(aid, old) end
  local fields = {}
  for i = 4, #argv do fields[#fields + 1] = argv[i] end
  redis.call('HSET', akey, unpack(fields))
  -- Proficiency per skill as its own field (p:<skill>), read without decoding JSON.
  for skill, _ in pairs(old and cjson.decode(old.skills or '{}') or {}) do
    redis.call('HDEL', akey, 'p:' .. skill)
  end
  local a = hgetall(akey)
  for skill, level in pairs(cjson.decode(a.skills or '{}')) do
    redis.call('HSET', akey, 'p:' .. skill, level)
  end
  redis.call('HSET', akey, 'ixk', index_suffixes(a), 'ix', '')
  if not old then
    redis.call('HSET', akey, 'presence', 'offline', 'load_voice', 0, 'load_chat', 0, 'offers', 0,
      'idle_since', now, 'last_offer', 0, 'wrapup_until', 0)
  end
  -- The roster's capacity is the session's only while signed out: an agent at work keeps
  -- what they signed in with until they sign in again.
  if not old or old.presence == 'offline' then
    redis.call('HSET', akey, 'cap_voice', a.roster_voice, 'cap_chat', a.roster_chat)
  end
  redis.call('SADD', P .. 'agents', aid)
  local a = hgetall(akey)
  redis.call('SADD', P .. 'regions', a.region)
  reindex(aid)
  -- New skills, languages or region count at once: a signed-in, ready agent is offered
  -- what now waits for them (try_match_agent offers nothing to one not available).
  local offers = try_match_agent(aid, 'agent changed')
  return reply('ok', {offers = #offers})
end

-- args: agent. Removes an agent who holds no contact (an agent with load or offers is
-- refused: its contacts must end or move first).
function commands.remove_agent(argv)
  local aid = argv[3]
  local akey = P .. 'agent:' .. aid
  local a = hgetall(akey)
  if not a then return reply('unknown_agent') end
  if num(a.load_voice, 0) + num(a.load_chat, 0) + num(a.offers, 0) > 0 then
    return reply('busy', {state = 'holding contacts'})
  end
  unindex(aid, a)
  redis.call('DEL', akey)
  redis.call('SREM', P .. 'agents', aid)
  redis.call('ZREM', P .. 'offered', aid)
  redis.call('ZREM', P .. 'wrapups', aid)
  redis.call('DEL', P .. 'held:' .. aid)
  publish({type = 'state', agent_id = aid, presence = 'offline', reason = 'removed'})
  return reply('removed')
end

-- args: dead node, heir node, '1' when the node stopped cleanly. Chats and callbacks
-- created on the dead node move to the heir; voice calls whose media died with it fail
-- (node_lost). Agents whose session was on a node that died go offline and give back
-- their chats as a sign-out does (let_go: the customer told contact_requeued, the chat
-- offered on at once to someone free); they are all taken out of routing first, so that
-- none is offered another's chat. Those of a node that stopped cleanly are the heir's
-- instead, signed in as they were with their chats: the node closed their desks with
-- 1001, and the desks reconnect through the balancer to a node that runs (a rolling
-- restart interrupts nobody). args[6], JSON {contact: [home, region, line]}: waiting
-- chats whose region has no live node left, placed in another region as a new chat would
-- be (regions/service.py chooses where); each moves once the rest is done, only if it still
-- waits in `home`, its `placement` and explanation saying why, and the offer pass offers
-- it there at once. Returns {adopted, failed, requeued, placed (elsewhere), agents
-- (signed out), handed_over (kept)}.
function commands.adopt(argv)
  local dead, heir, stopped = argv[3], argv[4], argv[5] == '1'
  local adopted, failed, requeued, placed = 0, 0, 0, 0
  local lost_agents, handed_over = {}, {}
  for _, aid in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
    local akey = P .. 'agent:' .. aid
    local at = redis.call('HMGET', akey, 'node', 'presence', 'desk_node')
    if at[3] == dead then redis.call('HDEL', akey, 'desk_node') end  -- its sockets are gone
    if at[1] == dead and stopped and at[2] ~= 'offline' then
      redis.call('HSET', akey, 'node', heir)
      handed_over[#handed_over + 1] = aid
    elseif at[1] == dead and at[2] ~= 'offline' then  -- one signed out before: nothing lost
      local a = hgetall(P .. 'agent:' .. aid)
      unindex(aid, a)
      redis.call('HSET', P .. 'agent:' .. aid, 'presence', 'offline', 'reason', 'node lost', 'node', '',
        'presence_since', now)
      lost_agents[aid] = a
    end
  end
  for _, cid in ipairs(redis.call('SMEMBERS', P .. 'live')) do
    local c = hgetall(P .. 'contact:' .. cid)
    if c and not TERMINAL[c.state] then
      if c.node == dead and c.channel == 'voice' and (c.callback_uri or '') == '' then
        fail_contact(cid, c, 'node_lost')
        failed = failed + 1
      else
        if c.node == dead then
          redis.call('HSET', P .. 'contact:' .. cid, 'node', heir)
          redis.call('SMOVE', P .. 'live:' .. dead, P .. 'live:' .. heir, cid)
          add_explanation(P .. 'contact:' .. cid, string.format('adopted by %s: node %s %s', heir, dead,
            stopped and 'stopped' or 'lost'))
          adopted = adopted + 1
        end
      end
    end
  end
  local agents = {}
  for aid, a in pairs(lost_agents) do
    local revoked, given_back = let_go(aid, a, 'node lost', string.format('lost with node %s', dead), true)
    requeued = requeued + revoked + given_back
    redis.call('HSET', P .. 'agent:' .. aid, 'offers', 0, 'load_chat', 0)
    publish({type = 'session_closed', agent_id = aid, reason = 'node lost'})
    agents[#agents + 1] = aid
  end
  local offered = redis.call('SMEMBERS', P .. 'live:' .. heir)
  for cid, move in pairs(cjson.decode(argv[6] or '{}')) do
    local ckey = P .. 'contact:' .. cid
    local c = fields_of(ckey, {'state', 'region', 'channel', 'placement', 'node'})
    if c and c.state == 'queued' and c.channel == 'chat' and c.region == move[1] then
      local placement = (c.placement or '') == '' and move[3] or (c.placement .. '; ' .. move[3])
      redis.call('HSET', ckey, 'region', move[2], 'placement', placement)
      add_explanation(ckey, move[3])
      placed = placed + 1
      -- a chat requeued from a lost agent may be another node's: offered below all the same
      if c.node ~= heir then offered[#offered + 1] = cid end
    end
  end
  for _, cid in ipairs(offered) do
    local c = hgetall(P .. 'contact:' .. cid)
    if c and c.state == 'queued' then try_match_contact(cid) end
  end
  return reply('adopted', {adopted = adopted, failed = failed, requeued = requeued, placed = placed,
    agents = cjson.encode(agents), handed_over = cjson.encode(handed_over)})
end

-- Timers: ring timeouts (RONA), wrap-ups ending, relaxation steps, maximum waits,
-- callbacks' next attempts.
-- A tick does at most TICK_BATCH of each kind of timer and says whether more are due:
-- Redis runs nothing else meanwhile, so a backlog is worked off in short calls (the
-- node calls again at once) rather than one call that holds up every decision.
local TICK_BATCH = 32

function commands.tick(argv)
  local rona, freed, relaxed, overflowed = 0, 0, 0, 0
  local offers_due = redis.call('ZRANGEBYSCORE', P .. 'offers', '-inf', now, 'LIMIT', 0, TICK_BATCH)
  local wrapups_due = redis.call('ZRANGEBYSCORE', P .. 'wrapups', '-inf', now, 'LIMIT', 0, TICK_BATCH)
  local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, TICK_BATCH)
  local callbacks_due = redis.call('ZRANGEBYSCORE', P .. 'callbacks', '-inf', now, 'LIMIT', 0, TICK_BATCH)
  local more = (#offers_due == TICK_BATCH or #wrapups_due == TICK_BATCH or #due == TICK_BATCH
    or #callbacks_due == TICK_BATCH) and 1 or 0
  local retried = 0
  for _, cid in ipairs(offers_due) do
    local c = hgetall(P .. 'contact:' .. cid)
    if c and c.state == 'offered' then
      end_offer(cid, c, c.agent_id, 'no_answer')
      rona = rona + 1
    else
      redis.call('ZREM', P .. 'offers', cid)
    end
  end
  for _, aid in ipairs(wrapups_due) do
    redis.call('ZREM', P .. 'wrapups', aid)
    reindex(aid)
    freed = freed + #try_match_agent(aid)
  end
  for _, cid in ipairs(due) do
    redis.call('ZREM', P .. 'due', cid)
    local c = hgetall(P .. 'contact:' .. cid)
    local q = c and c.state == 'queued' and qcfg(c.queue)
    if q then
      if q.overflow_queue and q.overflow_queue ~= '' and reached(q, 'max_wait_s', waited_ms(c)) then
        local target = qcfg(q.overflow_queue)
        if target then move_contact(cid, c, q.overflow_queue, target, 'maximum wait reached') end
        overflowed = overflowed + 1
      elseif try_match_contact(cid) then
        relaxed = relaxed + 1
      else
        schedule_due(cid, entered_at(c), q, c)
      end
    end
  end
  for _, cid in ipairs(callbacks_due) do
    redis.call('ZREM', P .. 'callbacks', cid)  -- whatever became of the contact
    local c = hgetall(P .. 'contact:' .. cid)
    if c and c.state == 'queued' and retry_pending(c) then
      end_retry_wait(cid, c)
      add_explanation(P .. 'contact:' .. cid, string.format(
        'callback attempt %s due; back at its place in %s', c.callback_attempt or '', c.queue))
      requeue_at_head(cid, c)
      try_match_contact(cid)
      retried = retried + 1
    end
  end
  return reply('ticked', {rona = rona, freed = freed, relaxed = relaxed, overflowed = overflowed,
    retried = retried, more = more})
end

-- Warm transfers (telephony/calls/transfer.py) -------------------------------------
-- The colleague an agent consults before handing a call over is held for that call from
-- the first ring to the end of the consultation, so that nothing else is offered to them
-- meanwhile: one voice slot, counted as an offer while their phone rings (reserved), then
-- as load (busy). The contact names them (consult_agent; consult_step ringing/talking).
-- args: contact, agent, step:
--   reserve    refused ('busy') when the agent is signed out or already has a call or
--              a ringing offer, or the contact consults someone else
--   answered   the colleague picked up
--   release    the consultation ended without a hand-over: the slot back, the colleague
--              offered what waits ('' as agent: whoever is held); idempotent
--   hand_over  the connected contact goes to the consulted colleague at once, who keeps
--              the slot; its agent's slot comes back (no wrap-up: a transfer)
function commands.consult(argv)
  local cid, aid, step = argv[3], argv[4] or '', argv[5]
  local ckey = P .. 'contact:' .. cid
  local c = hgetall(ckey)
  if not c then return reply('unknown_contact') end
  local held, ringing = c.consult_agent or '', c.consult_step == 'ringing'
  if step ~= 'reserve' and step ~= 'answered' and step ~= 'release' and step ~= 'hand_over' then
    return redis.error_reply('unknown consult step ' .. tostring(step))
  end
  if step == 'release' then
    if aid == '' then aid = held end
    if held == '' or held ~= aid then return reply('released') end
    release_consult(cid, c)
    try_match_agent(aid)
    return reply('released')
  end
  if c.state ~= 'connected' then return reply('not_connected', {state = c.state}) end
  if step == 'reserve' then
    if held ~= '' then return reply('busy', {state = 'consulting ' .. held}) end
    local a = agent_fields(aid, AGENT_FIELDS)
    if a == nil then return reply('unknown_agent') end
    if a.presence == 'offline' or num(a.load_voice, 0) + num(a.offers, 0) > 0 or aid == c.agent_id then
      return reply('busy', {state = a.presence == 'offline' and 'signed out' or 'busy'})
    end
    change_agent(aid, 'voice', 1, 1, nil, a)
    redis.call('HSET', ckey, 'consult_agent', aid, 'consult_step', 'ringing')
    add_explanation(ckey, string.format('%s consults %s, who is held for it', c.agent_id, aid))
    return reply('reserved')
  end
  if held ~= aid then return reply('not_yours', {state = 'not consulting ' .. aid}) end
  if ringing then change_agent(aid, 'voice', 0, -1) end
  if step == 'answered' then
    redis.call('HSET', ckey, 'consult_step', 'talking')
    return reply('reserved')
  end
  local from = release_hold(cid, c)
  redis.call('HDEL', ckey, 'consult_agent', 'consult_step')
  redis.call('HSET', ckey, 'agent_id', aid, 'leg_since', now)
  redis.call('SADD', P .. 'held:' .. aid, cid)
  add_explanation(ckey, string.format('warm transfer: handed from %s to %s', from or '', aid))
  publish({type = 'contact_connected', contact_id = cid, agent_id = aid, node = c.node or '', channel = c.channel})
  if from then try_match_agent(from) end
  return reply('connected')
end

local function route(keys, args)
  local anchor = keys[1]
  P = string.sub(anchor, 1, #anchor - #'anchor')
  now = tonumber(args[2])
  config = current_config()
  local handler = commands[args[1]]
  if handler == nil then return redis.error_reply('unknown routing command ' .. tostring(args[1])) end
  return handler(args)
end

redis.register_function(FUNCTION_NAME, route)
