// The Lua scripts that make taking, saving and freeing a tab's lock atomic in Redis.

import RedisClient

enum Scripts {
    /// Takes the lock if it is free and, in the same step, loads the tab and refreshes its expiry;
    /// if the lock is held, marks the tab as waited for so its release is announced.
    /// KEYS: lock, tab, wait mark. ARGV: owner, lock expiry ms, tab expiry ms.
    /// Returns the tab's fields (a flat array, possibly empty) or nil when the lock is held.
    static let acquire = RedisScript("""
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          redis.call('PEXPIRE', KEYS[2], ARGV[3])
          return redis.call('HGETALL', KEYS[2])
        end
        redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
        return false
        """)

    /// Writes changed substates only if the caller still owns the lock: the check and the write
    /// are one step, so a holder whose lock expired can never overwrite a later holder. In the
    /// same step it publishes the change for a tab whose socket is with another process.
    /// KEYS: lock, tab. ARGV: owner, tab expiry ms, relay channel (empty for none), relay
    /// message, field, value, field, value, …
    static let commit = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return redis.error_reply('LOCKEXPIRED the lock expired before the commit')
        end
        if #ARGV > 4 then
          redis.call('HSET', KEYS[2], unpack(ARGV, 5))
        end
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        if ARGV[3] ~= '' then
          redis.call('PUBLISH', ARGV[3], ARGV[4])
        end
        return 1
        """)

    /// Frees the lock if the caller still owns it and, if anyone marked the tab as waited for,
    /// announces it to every process.
    /// KEYS: lock, wait mark. ARGV: owner, unlock channel, token.
    static let release = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
        end
        if redis.call('DEL', KEYS[2]) == 1 then
          redis.call('PUBLISH', ARGV[2], ARGV[3])
        end
        return 1
        """)
}
