// The Lua scripts that make taking, saving and freeing a tab's lock atomic in Redis.

import RedisClient

enum Scripts {
    /// Takes the lock if it is free and, in the same step, loads the tab and refreshes its expiry.
    /// KEYS: lock, tab. ARGV: owner, lock expiry ms, tab expiry ms.
    /// Returns the tab's fields (a flat array, possibly empty) or nil when the lock is held.
    static let acquire = RedisScript("""
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          redis.call('PEXPIRE', KEYS[2], ARGV[3])
          return redis.call('HGETALL', KEYS[2])
        end
        return false
        """)

    /// Writes changed substates only if the caller still owns the lock: the check and the write
    /// are one step, so a holder whose lock expired can never overwrite a later holder.
    /// KEYS: lock, tab. ARGV: owner, tab expiry ms, field, value, field, value, …
    static let commit = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return redis.error_reply('LOCKEXPIRED the lock expired before the commit')
        end
        if #ARGV > 2 then
          redis.call('HSET', KEYS[2], unpack(ARGV, 3))
        end
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        return 1
        """)

    /// Frees the lock if the caller still owns it, and wakes waiters in every process.
    /// KEYS: lock. ARGV: owner, unlock channel, token.
    static let release = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
        end
        redis.call('PUBLISH', ARGV[2], ARGV[3])
        return 1
        """)
}
