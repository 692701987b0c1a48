// The Lua scripts that make taking, saving and freeing a tab's (or a shared state key's) lock atomic in Redis.

import RESP

enum Scripts {
    /// The error code `commit` replies with when the caller no longer owns the lock.
    static let lockExpiredCode = "LOCKEXPIRED"

    /// Takes the lock if it is free and, in the same step, loads the tab and refreshes its expiry;
    /// if the lock is held, marks the tab as waited for so its release is announced, and asks
    /// the process keeping it to let it go. A lock counts as free when its holder's process is
    /// dead (its `rill:alive:` mark expired: killed, or cut off from Redis), so a crash stalls
    /// the tab for the mark's lifetime, not the lock's. A lock held under the caller's own process
    /// prefix is taken over too: a process asks only when it holds the tab nowhere else, so such
    /// a lock is one whose release never reached Redis (it was down). Each call renews the
    /// caller's own mark.
    /// KEYS: lock, tab, wait mark. ARGV: owner, lock expiry ms, tab expiry ms (`0`: left as it is), wanted channel,
    /// token, process prefix (`id:`), alive mark expiry ms.
    /// Returns the tab's fields (a flat array, possibly empty) or nil when the lock is held.
    static let acquire = RedisScript("""
        redis.call('SET', 'rill:alive:' .. string.sub(ARGV[6], 1, -2), '1', 'PX', ARGV[7])
        local holder = redis.call('GET', KEYS[1])
        local free = (not holder) or string.sub(holder, 1, #ARGV[6]) == ARGV[6]
        if not free then
          local process = string.match(holder, '^(.*):[0-9]+$')
          free = process ~= nil and redis.call('EXISTS', 'rill:alive:' .. process) == 0
        end
        if free then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          if ARGV[3] ~= '0' then
            redis.call('PEXPIRE', KEYS[2], ARGV[3])
          end
          return redis.call('HGETALL', KEYS[2])
        end
        redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return false
        """)

    /// Writes changed substates only if the caller still owns the lock: the check and the write
    /// are one step, so a holder whose lock expired can never overwrite a later holder. In the
    /// same step it publishes the change for a tab whose socket is with another process.
    /// The lock's expiry starts again, as the holder may keep it for the tab's next event.
    /// KEYS: lock, tab. ARGV: owner, tab expiry ms (`0`: none), lock expiry ms, relay channel
    /// (empty for none), relay message, field, value, field, value, …
    static let commit = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return redis.error_reply('LOCKEXPIRED the lock expired before the commit')
        end
        if #ARGV > 5 then
          redis.call('HSET', KEYS[2], unpack(ARGV, 6))
        end
        if ARGV[2] == '0' then
          redis.call('PERSIST', KEYS[2])
        else
          redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        if ARGV[4] ~= '' then
          redis.call('PUBLISH', ARGV[4], ARGV[5])
        end
        return 1
        """)

    /// The same for a tab and a shared state key whose locks the caller both holds: both are
    /// checked, then both written and both changes published, in one step. The key's value is
    /// the hash field `value`.
    /// KEYS: tab lock, tab, key lock, key hash. ARGV: tab owner, tab expiry ms, lock expiry ms,
    /// relay channel (empty for none), relay message, key owner, key value, key channel (empty
    /// for none), key message, key expiry ms (`0`: none), field, value, …
    static let commitWithShared = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[3]) ~= ARGV[6] then
          return redis.error_reply('LOCKEXPIRED the lock expired before the commit')
        end
        if #ARGV > 10 then
          redis.call('HSET', KEYS[2], unpack(ARGV, 11))
        end
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        redis.call('HSET', KEYS[4], 'value', ARGV[7])
        if ARGV[10] == '0' then
          redis.call('PERSIST', KEYS[4])
        else
          redis.call('PEXPIRE', KEYS[4], ARGV[10])
        end
        redis.call('PEXPIRE', KEYS[3], ARGV[3])
        if ARGV[4] ~= '' then
          redis.call('PUBLISH', ARGV[4], ARGV[5])
        end
        if ARGV[8] ~= '' then
          redis.call('PUBLISH', ARGV[8], ARGV[9])
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
