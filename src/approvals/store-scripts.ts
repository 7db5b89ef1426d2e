/**
 * The approval store's Lua scripts: every state transition is one script, so it is atomic,
 * and appends its audit entry in the same script.
 *
 * KEYS: hash, voters, audit, approved (outbox), executing. ARGV: user, nowMs, audit maxlen,
 * type (reused for the from-state and the audit type), id, detail, …extra.
 */

const audit = `redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', ARGV[4], 'approval', ARGV[5], 'by', ARGV[1], 'at', ARGV[2], 'detail', ARGV[6], 'cluster', redis.call('HGET', KEYS[1], 'cluster') or '')`;

/** A pending request past its stored deadline becomes `expired` (and says so in the audit). */
const expiryCheck = `if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) then
  redis.call('HSET', KEYS[1], 'state', 'expired')
  ARGV[4] = 'expired'
  ${audit}
  return {'expired'}
end`;

/**
 * KEYS: hash, voters, audit. ARGV: user, nowMs, maxlen, (type), id, (detail).
 * Returns {outcome, ...}.
 */
export const voteScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'pending' then return {'already', state} end
${expiryCheck}
if redis.call('HGET', KEYS[1], 'requester') == ARGV[1] then return {'self'} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {'duplicate'} end
local mustType = redis.call('HGET', KEYS[1], 'confirmTarget')
if mustType and mustType ~= ARGV[6] then return {'unconfirmed'} end
if mustType then redis.call('HSET', KEYS[1], 'confirmed', ARGV[6]) end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'votedAt:' .. ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
local count = redis.call('SCARD', KEYS[2])
local required = tonumber(redis.call('HGET', KEYS[1], 'required'))
ARGV[4] = 'approval'
${audit}
if count >= required then
  redis.call('HSET', KEYS[1], 'state', 'approved', 'approvedBy', ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[5])
  ARGV[4] = 'approved'
  ${audit}
  return {'approved', count}
end
return {'counted', count, required}
`;

/** KEYS: hash, voters, audit. ARGV: user, nowMs, maxlen, (type), id, detail. */
export const denyScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'pending' then return {'already', state} end
${expiryCheck}
redis.call('HSET', KEYS[1], 'state', 'denied', 'deniedBy', ARGV[1], 'deniedAt', ARGV[2])
ARGV[4] = 'denied'
${audit}
return {'denied'}
`;

/**
 * KEYS: hash, voters, audit, approved, executing. ARGV: user, nowMs, maxlen, fromState, id,
 * detail, toState. Leaving `approved` leaves the outbox; `executing` is tracked until it ends.
 */
export const transitionScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= ARGV[4] then return {'already', state} end
redis.call('HSET', KEYS[1], 'state', ARGV[7])
redis.call('ZREM', KEYS[4], ARGV[5])
redis.call('ZREM', KEYS[5], ARGV[5])
if ARGV[7] == 'executing' then redis.call('ZADD', KEYS[5], ARGV[2], ARGV[5]) end
ARGV[4] = ARGV[7]
${audit}
return {'ok'}
`;

/** KEYS: hash, voters, audit. Expires a pending request whose deadline has passed. */
export const expireScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return {'not pending'} end
${expiryCheck}
return {'not due'}
`;

/** KEYS: hash, voters, audit, … ARGV: user, nowMs, maxlen, (type), id, detail. Audit only. */
export const lateScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
ARGV[4] = 'late_result'
${audit}
return {'ok'}
`;
