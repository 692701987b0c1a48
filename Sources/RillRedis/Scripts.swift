// The Lua scripts that make taking, saving and freeing a tab's (or a shared state key's) lock atomic in Redis, and recording, claiming and giving up durable tasks.

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
    /// A durable task's block commits only while the caller's process owns the task, and durable
    /// tasks a handler started are recorded as this process's with the handler's changes.
    /// KEYS: lock, tab, task owners, task records. ARGV: owner, tab expiry ms (`0`: none), lock
    /// expiry ms, relay channel (empty for none), relay message, fenced task id (empty for none),
    /// process id, `1` if the block is the fenced task's clean-up (else empty), number of started
    /// tasks n, then n pairs of task id and record, then field, value, field, value, …
    static let commit = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return redis.error_reply('LOCKEXPIRED the lock expired before the commit')
        end
        \(fence(first: 6))
        local fields = 10 + 2 * tonumber(ARGV[9])
        if #ARGV >= fields then
          redis.call('HSET', KEYS[2], unpack(ARGV, fields))
        end
        if ARGV[2] == '0' then
          redis.call('PERSIST', KEYS[2])
        else
          redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        \(record(process: 7, keys: 3))
        if ARGV[4] ~= '' then
          redis.call('PUBLISH', ARGV[4], ARGV[5])
        end
        return 1
        """)

    /// The same for a tab and a shared state key whose locks the caller both holds: both are
    /// checked, then both written and both changes published, in one step. The key's value is
    /// the hash field `value`.
    /// KEYS: tab lock, tab, key lock, key hash, task owners, task records. ARGV: tab owner, tab
    /// expiry ms, lock expiry ms, relay channel (empty for none), relay message, key owner, key
    /// value, key channel (empty for none), key message, key expiry ms (`0`: none), fenced task
    /// id, process id, clean-up flag, number of started tasks n, n pairs of task id and record,
    /// field, value, …
    static let commitWithShared = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[3]) ~= ARGV[6] then
          return redis.error_reply('LOCKEXPIRED the lock expired before the commit')
        end
        \(fence(first: 11, keys: 5))
        local fields = 15 + 2 * tonumber(ARGV[14])
        if #ARGV >= fields then
          redis.call('HSET', KEYS[2], unpack(ARGV, fields))
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
        \(record(process: 12, keys: 5))
        if ARGV[4] ~= '' then
          redis.call('PUBLISH', ARGV[4], ARGV[5])
        end
        if ARGV[8] ~= '' then
          redis.call('PUBLISH', ARGV[8], ARGV[9])
        end
        return 1
        """)

    /// The error code a commit replies with when the durable task it is a block of is owned by
    /// another process.
    static let taskLostCode = "TASKLOST"

    /// Lua that refuses the commit unless the fenced task (ARGV[first], empty for none) is owned
    /// by the process ARGV[first + 1]; the owners hash is KEYS[keys]. A block that commits is
    /// the task's progress: its count of lost runs starts again. A clean-up block
    /// (ARGV[first + 2] is `1`) marks the task ended: it is never run again.
    private static func fence(first: Int, keys: Int = 3) -> String {
        """
        if ARGV[\(first)] ~= '' then
            if redis.call('HGET', KEYS[\(keys)], ARGV[\(first)]) ~= ARGV[\(first + 1)] then
              return redis.error_reply('\(taskLostCode) the task is owned by another process')
            end
            redis.call('HDEL', '\(RedisDurableTasks.lostRunsKey)', ARGV[\(first)])
            if ARGV[\(first + 2)] == '1' then
              redis.call('HSET', '\(RedisDurableTasks.endedKey)', ARGV[\(first)], '1')
            end
          end
        """
    }

    /// Lua that records the started tasks: ARGV[process] is the process, ARGV[process + 2] their
    /// number, then id and record pairs; the owners and records hashes are KEYS[keys] and the next.
    /// The process's task set and the set of claiming processes are what a claim looks through.
    private static func record(process: Int, keys: Int) -> String {
        let count = process + 2, first = process + 3
        return """
        for i = 0, tonumber(ARGV[\(count)]) - 1 do
            redis.call('HSET', KEYS[\(keys)], ARGV[\(first) + 2 * i], ARGV[\(process)])
            redis.call('HSET', KEYS[\(keys + 1)], ARGV[\(first) + 2 * i], ARGV[\(first + 1) + 2 * i])
            redis.call('SADD', '\(RedisDurableTasks.tasksOfPrefix)' .. ARGV[\(process)], ARGV[\(first) + 2 * i])
          end
          if ARGV[\(count)] ~= '0' then
            redis.call('SADD', '\(RedisDurableTasks.processesKey)', ARGV[\(process)])
          end
        """
    }

    /// Lua defining `forget(id, tab)`: the task's record, owner, lost-run count and ended mark
    /// are deleted, and its checkpoint from the hash `tab` when given. KEYS[1] and KEYS[2] are
    /// the owners and records hashes.
    private static let forget = """
        local function forget(id, tab)
          redis.call('HDEL', KEYS[1], id)
          redis.call('HDEL', KEYS[2], id)
          redis.call('HDEL', '\(RedisDurableTasks.lostRunsKey)', id)
          redis.call('HDEL', '\(RedisDurableTasks.endedKey)', id)
          if tab then redis.call('HDEL', tab, '~task:' .. id) end
        end
        """

    /// The tab hash key of a decoded task record, or false.
    private static let tabOf = """
        local function tabOf(decoded)
          return type(decoded) == 'table' and type(decoded['t']) == 'string' and 'rill:tab:' .. decoded['t']
        end
        """

    /// Lua defining `free(id, lost)`: the task loses its owner and waits in its event's list to
    /// be claimed, one more lost run counted if `lost`; a task whose record is gone or
    /// unreadable can never run, and one whose clean-up committed must not, so they are
    /// forgotten (with the checkpoint). KEYS[1] and KEYS[2] are the owners and records hashes.
    private static let free = """
        \(forget)
        \(tabOf)
        local function free(id, lost)
          local record = redis.call('HGET', KEYS[2], id)
          local ok, decoded = pcall(cjson.decode, record or '')
          local readable = record and ok and type(decoded) == 'table' and type(decoded['e']) == 'string'
          if readable and redis.call('HEXISTS', '\(RedisDurableTasks.endedKey)', id) == 0 then
            redis.call('HSET', KEYS[1], id, '')
            redis.call('RPUSH', '\(RedisDurableTasks.freePrefix)' .. decoded['e'], id)
            if lost then redis.call('HINCRBY', '\(RedisDurableTasks.lostRunsKey)', id, 1) end
          else
            forget(id, ok and tabOf(decoded))
          end
        end
        """

    /// Takes over durable tasks of the given events that no live process owns, for the
    /// caller's process, and returns their records. First the tasks of each process whose alive
    /// mark is gone lose their owner (counting one more lost run each); then the caller takes,
    /// from the lists of ownerless tasks of its events, up to the limit and up to its fair
    /// share: the tasks owned and waiting, divided among the live claiming processes, less what
    /// it owns (at least one). So a dead process's tasks spread over the others instead of going
    /// to whichever claims first. One step, so two processes never take the same task; its work
    /// grows with the number of processes and of tasks taken, not with the number of tasks live
    /// processes run. Renews the caller's alive mark and counts it among the claimers.
    /// KEYS: task owners, task records. ARGV: process id, limit, alive mark expiry ms, event, event, …
    /// Returns each task's record and its count of lost runs, one after the other.
    static let claim = RedisScript("""
        redis.call('SET', 'rill:alive:' .. ARGV[1], '1', 'PX', ARGV[3])
        redis.call('SADD', '\(RedisDurableTasks.processesKey)', ARGV[1])
        \(free)
        local live, owned = 0, 0
        for _, process in ipairs(redis.call('SMEMBERS', '\(RedisDurableTasks.processesKey)')) do
          if process ~= ARGV[1] and redis.call('EXISTS', 'rill:alive:' .. process) == 0 then
            for _, id in ipairs(redis.call('SMEMBERS', '\(RedisDurableTasks.tasksOfPrefix)' .. process)) do
              if redis.call('HGET', KEYS[1], id) == process then free(id, true) end
            end
            redis.call('DEL', '\(RedisDurableTasks.tasksOfPrefix)' .. process)
            redis.call('SREM', '\(RedisDurableTasks.processesKey)', process)
          else
            live = live + 1
            owned = owned + redis.call('SCARD', '\(RedisDurableTasks.tasksOfPrefix)' .. process)
          end
        end
        local waiting = 0
        for i = 4, #ARGV do
          waiting = waiting + redis.call('LLEN', '\(RedisDurableTasks.freePrefix)' .. ARGV[i])
        end
        local share = math.ceil((owned + waiting) / live) - redis.call('SCARD', '\(RedisDurableTasks.tasksOfPrefix)' .. ARGV[1])
        local limit = 2 * math.min(tonumber(ARGV[2]), math.max(share, 1))
        local out = {}
        for i = 4, #ARGV do
          while #out < limit do
            local id = redis.call('LPOP', '\(RedisDurableTasks.freePrefix)' .. ARGV[i])
            if not id then break end
            -- An entry of a task cancelled meanwhile is dropped.
            if redis.call('HGET', KEYS[1], id) == '' then
              redis.call('HSET', KEYS[1], id, ARGV[1])
              redis.call('SADD', '\(RedisDurableTasks.tasksOfPrefix)' .. ARGV[1], id)
              out[#out + 1] = redis.call('HGET', KEYS[2], id)
              out[#out + 1] = redis.call('HGET', '\(RedisDurableTasks.lostRunsKey)', id) or '0'
            end
          end
        end
        return out
        """)

    /// Forgets an ended durable task and its checkpoint if the caller's process owns it.
    /// KEYS: task owners, task records, tab. ARGV: task id, process id.
    static let finish = RedisScript("""
        \(forget)
        if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
        forget(ARGV[1], KEYS[3])
        redis.call('SREM', '\(RedisDurableTasks.tasksOfPrefix)' .. ARGV[2], ARGV[1])
        return 1
        """)

    /// Gives up the caller's process's tasks with these ids (no owner: any process may claim
    /// them at once) and tells every process.
    /// A lost run counts one more; a process handing over stops counting among the claimers.
    /// KEYS: task owners, task records. ARGV: process id, channel, reason (`handover`, `lost`,
    /// `retry`), task id, task id, …
    static let releaseTasks = RedisScript("""
        \(free)
        for i = 4, #ARGV do
          if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
            free(ARGV[i], ARGV[3] == 'lost')
            redis.call('SREM', '\(RedisDurableTasks.tasksOfPrefix)' .. ARGV[1], ARGV[i])
          end
        end
        if ARGV[3] == 'handover' then
          redis.call('SREM', '\(RedisDurableTasks.processesKey)', ARGV[1])
        end
        redis.call('PUBLISH', ARGV[2], '')
        return 1
        """)

    /// Cancels a durable task: one no live process owns is forgotten at once (an entry left in
    /// a list of ownerless tasks is dropped when a claim reaches it); the process that owns one
    /// is told to stop it. Returns 1 if it was forgotten here.
    /// KEYS: task owners, task records. ARGV: task id, channel.
    static let cancel = RedisScript("""
        \(forget)
        \(tabOf)
        local owner = redis.call('HGET', KEYS[1], ARGV[1])
        if not owner then return 0 end
        if owner == '' or redis.call('EXISTS', 'rill:alive:' .. owner) == 0 then
          local ok, decoded = pcall(cjson.decode, redis.call('HGET', KEYS[2], ARGV[1]) or '')
          forget(ARGV[1], ok and tabOf(decoded))
          return 1
        end
        redis.call('PUBLISH', ARGV[2], ARGV[1])
        return 0
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
