// The built-in command table: Redis 6.0-7.2, and the keyed commands of
// Redis 7.4-8.4 and Valkey 9 (see the block before the keyless rows).
//
// The keyed rows were generated from the key specs in the COMMAND reply of a
// Redis 7.0.15 server (7.0 knows every command of 6.x; 7.2 added none with
// keys), without MIGRATE (never replicated: it reaches replicas as DEL) and
// without specs flagged not_key (SPUBLISH's channel); ReadOnly marks the specs
// flagged RO (keys the command only reads). SORT's STORE key has no
// key spec; it is found like Redis's sortGetKeys does. EVAL, EVALSHA and FCALL
// are marked as writes (COMMAND leaves that to the script). The rows at the
// end, without keys, were written by hand.

#include "engine/resp/command_table.h"

namespace reshard::engine {
namespace {

constexpr bool kWrite = true;
constexpr bool kRead = false;

class Rows {
 public:
  std::vector<CommandInfo> Take() { return std::move(rows_); }

  void Keyed(const char* name, int arity, bool write, std::vector<KeySpec> specs) {
    Add(name, arity, write, RouteKind::kKeyed, std::move(specs));
  }
  void Split(const char* name, int arity, bool write, std::vector<KeySpec> specs) {
    Add(name, arity, write, RouteKind::kSplitKeys, std::move(specs));
  }
  void Sort(const char* name, int arity, bool write) {
    Add(name, arity, write, RouteKind::kKeyed, {}).finder = KeyFinder::kSort;
  }
  void Keyless(const char* name, int arity, bool write, RouteKind route) {
    Add(name, arity, write, route, {});
  }
  void Container(const char* name) {
    Add(name, -2, kRead, RouteKind::kKeyed, {}).has_subcommands = true;
  }

 private:
  CommandInfo& Add(const char* name, int arity, bool write, RouteKind route,
                   std::vector<KeySpec> specs) {
    CommandInfo& info = rows_.emplace_back();
    info.name = name;
    info.arity = arity;
    info.write = write;
    info.route = route;
    info.key_specs = std::move(specs);
    return info;
  }

  std::vector<CommandInfo> rows_;
};

}  // namespace

std::vector<CommandInfo> BuiltinCommands() {
  Rows r;
  // Generated from COMMAND (Redis 7.0.15), sorted by name.
  r.Keyed("APPEND", 3, kWrite, {IndexRange(1, 0)});
  r.Keyed("BITCOUNT", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("BITFIELD", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("BITFIELD_RO", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("BITOP", -4, kWrite, {IndexRange(2, 0), ReadOnly(IndexRange(3, -1))});
  r.Keyed("BITPOS", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("BLMOVE", 6, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Keyed("BLMPOP", -5, kWrite, {IndexKeynum(2, 0, 1)});
  r.Keyed("BLPOP", -3, kWrite, {IndexRange(1, -2)});
  r.Keyed("BRPOP", -3, kWrite, {IndexRange(1, -2)});
  r.Keyed("BRPOPLPUSH", 4, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Keyed("BZMPOP", -5, kWrite, {IndexKeynum(2, 0, 1)});
  r.Keyed("BZPOPMAX", -3, kWrite, {IndexRange(1, -2)});
  r.Keyed("BZPOPMIN", -3, kWrite, {IndexRange(1, -2)});
  r.Keyed("COPY", -3, kWrite, {ReadOnly(IndexRange(1, 0)), IndexRange(2, 0)});
  r.Keyed("DECR", 2, kWrite, {IndexRange(1, 0)});
  r.Keyed("DECRBY", 3, kWrite, {IndexRange(1, 0)});
  r.Split("DEL", -2, kWrite, {IndexRange(1, -1)});
  r.Keyed("DUMP", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("EVAL", -3, kWrite, {IndexKeynum(2, 0, 1)});
  r.Keyed("EVALSHA", -3, kWrite, {IndexKeynum(2, 0, 1)});
  r.Keyed("EVALSHA_RO", -3, kRead, {ReadOnly(IndexKeynum(2, 0, 1))});
  r.Keyed("EVAL_RO", -3, kRead, {ReadOnly(IndexKeynum(2, 0, 1))});
  r.Split("EXISTS", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("EXPIRE", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("EXPIREAT", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("EXPIRETIME", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("FCALL", -3, kWrite, {IndexKeynum(2, 0, 1)});
  r.Keyed("FCALL_RO", -3, kRead, {ReadOnly(IndexKeynum(2, 0, 1))});
  r.Keyed("GEOADD", -5, kWrite, {IndexRange(1, 0)});
  r.Keyed("GEODIST", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GEOHASH", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GEOPOS", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed(
      "GEORADIUS", -6, kWrite,
      {ReadOnly(IndexRange(1, 0)), KeywordRange("STORE", 6, 0), KeywordRange("STOREDIST", 6, 0)});
  r.Keyed(
      "GEORADIUSBYMEMBER", -5, kWrite,
      {ReadOnly(IndexRange(1, 0)), KeywordRange("STORE", 5, 0), KeywordRange("STOREDIST", 5, 0)});
  r.Keyed("GEORADIUSBYMEMBER_RO", -5, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GEORADIUS_RO", -6, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GEOSEARCH", -7, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GEOSEARCHSTORE", -8, kWrite, {IndexRange(1, 0), ReadOnly(IndexRange(2, 0))});
  r.Keyed("GET", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GETBIT", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GETDEL", 2, kWrite, {IndexRange(1, 0)});
  r.Keyed("GETEX", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("GETRANGE", 4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("GETSET", 3, kWrite, {IndexRange(1, 0)});
  r.Keyed("HDEL", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("HEXISTS", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HGET", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HGETALL", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HINCRBY", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("HINCRBYFLOAT", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("HKEYS", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HLEN", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HMGET", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HMSET", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("HRANDFIELD", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HSCAN", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HSET", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("HSETNX", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("HSTRLEN", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HVALS", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("INCR", 2, kWrite, {IndexRange(1, 0)});
  r.Keyed("INCRBY", 3, kWrite, {IndexRange(1, 0)});
  r.Keyed("INCRBYFLOAT", 3, kWrite, {IndexRange(1, 0)});
  r.Keyed("LCS", -3, kRead, {ReadOnly(IndexRange(1, 1))});
  r.Keyed("LINDEX", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("LINSERT", 5, kWrite, {IndexRange(1, 0)});
  r.Keyed("LLEN", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("LMOVE", 5, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Keyed("LMPOP", -4, kWrite, {IndexKeynum(1, 0, 1)});
  r.Keyed("LPOP", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("LPOS", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("LPUSH", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("LPUSHX", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("LRANGE", 4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("LREM", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("LSET", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("LTRIM", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("MEMORY|USAGE", -3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("MGET", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("MOVE", 3, kWrite, {IndexRange(1, 0)});
  r.Split("MSET", -3, kWrite, {IndexRange(1, -1, 2)});
  // Replicated only when every key was set: split into MSET parts.
  r.Split("MSETNX", -3, kWrite, {IndexRange(1, -1, 2)});
  r.Keyed("OBJECT|ENCODING", 3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("OBJECT|FREQ", 3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("OBJECT|IDLETIME", 3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("OBJECT|REFCOUNT", 3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("PERSIST", 2, kWrite, {IndexRange(1, 0)});
  r.Keyed("PEXPIRE", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("PEXPIREAT", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("PEXPIRETIME", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("PFADD", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("PFCOUNT", -2, kRead, {IndexRange(1, -1)});
  r.Keyed("PFDEBUG", 3, kWrite, {IndexRange(2, 0)});
  r.Keyed("PFMERGE", -2, kWrite, {IndexRange(1, 0), ReadOnly(IndexRange(2, -1))});
  r.Keyed("PSETEX", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("PTTL", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("RENAME", 3, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Keyed("RENAMENX", 3, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Keyed("RESTORE", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("RESTORE-ASKING", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("RPOP", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("RPOPLPUSH", 3, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Keyed("RPUSH", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("RPUSHX", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("SADD", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("SCARD", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SDIFF", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("SDIFFSTORE", -3, kWrite, {IndexRange(1, 0), ReadOnly(IndexRange(2, -1))});
  r.Keyed("SET", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("SETBIT", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("SETEX", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("SETNX", 3, kWrite, {IndexRange(1, 0)});
  r.Keyed("SETRANGE", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("SINTER", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("SINTERCARD", -3, kRead, {ReadOnly(IndexKeynum(1, 0, 1))});
  r.Keyed("SINTERSTORE", -3, kWrite, {IndexRange(1, 0), ReadOnly(IndexRange(2, -1))});
  r.Keyed("SISMEMBER", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SMEMBERS", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SMISMEMBER", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SMOVE", 4, kWrite, {IndexRange(1, 0), IndexRange(2, 0)});
  r.Sort("SORT", -2, kWrite);
  r.Sort("SORT_RO", -2, kRead);
  r.Keyed("SPOP", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("SRANDMEMBER", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SREM", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("SSCAN", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("STRLEN", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SUBSTR", 4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("SUNION", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("SUNIONSTORE", -3, kWrite, {IndexRange(1, 0), ReadOnly(IndexRange(2, -1))});
  r.Split("TOUCH", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("TTL", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("TYPE", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Split("UNLINK", -2, kWrite, {IndexRange(1, -1)});
  r.Keyed("WATCH", -2, kRead, {ReadOnly(IndexRange(1, -1))});
  r.Keyed("XACK", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("XADD", -5, kWrite, {IndexRange(1, 0)});
  r.Keyed("XAUTOCLAIM", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("XCLAIM", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("XDEL", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("XGROUP|CREATE", -5, kWrite, {IndexRange(2, 0)});
  r.Keyed("XGROUP|CREATECONSUMER", 5, kWrite, {IndexRange(2, 0)});
  r.Keyed("XGROUP|DELCONSUMER", 5, kWrite, {IndexRange(2, 0)});
  r.Keyed("XGROUP|DESTROY", 4, kWrite, {IndexRange(2, 0)});
  r.Keyed("XGROUP|SETID", -5, kWrite, {IndexRange(2, 0)});
  r.Keyed("XINFO|CONSUMERS", 4, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("XINFO|GROUPS", 3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("XINFO|STREAM", -3, kRead, {ReadOnly(IndexRange(2, 0))});
  r.Keyed("XLEN", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("XPENDING", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("XRANGE", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("XREAD", -4, kRead, {ReadOnly(KeywordRange("STREAMS", 1, -1, 1, 2))});
  r.Keyed("XREADGROUP", -7, kWrite, {ReadOnly(KeywordRange("STREAMS", 4, -1, 1, 2))});
  r.Keyed("XREVRANGE", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("XSETID", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("XTRIM", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZADD", -4, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZCARD", 2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZCOUNT", 4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZDIFF", -3, kRead, {ReadOnly(IndexKeynum(1, 0, 1))});
  r.Keyed("ZDIFFSTORE", -4, kWrite, {IndexRange(1, 0), ReadOnly(IndexKeynum(2, 0, 1))});
  r.Keyed("ZINCRBY", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZINTER", -3, kRead, {ReadOnly(IndexKeynum(1, 0, 1))});
  r.Keyed("ZINTERCARD", -3, kRead, {ReadOnly(IndexKeynum(1, 0, 1))});
  r.Keyed("ZINTERSTORE", -4, kWrite, {IndexRange(1, 0), ReadOnly(IndexKeynum(2, 0, 1))});
  r.Keyed("ZLEXCOUNT", 4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZMPOP", -4, kWrite, {IndexKeynum(1, 0, 1)});
  r.Keyed("ZMSCORE", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZPOPMAX", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZPOPMIN", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZRANDMEMBER", -2, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZRANGE", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZRANGEBYLEX", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZRANGEBYSCORE", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZRANGESTORE", -5, kWrite, {IndexRange(1, 0), ReadOnly(IndexRange(2, 0))});
  r.Keyed("ZRANK", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZREM", -3, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZREMRANGEBYLEX", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZREMRANGEBYRANK", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZREMRANGEBYSCORE", 4, kWrite, {IndexRange(1, 0)});
  r.Keyed("ZREVRANGE", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZREVRANGEBYLEX", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZREVRANGEBYSCORE", -4, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZREVRANK", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZSCAN", -3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZSCORE", 3, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("ZUNION", -3, kRead, {ReadOnly(IndexKeynum(1, 0, 1))});
  r.Keyed("ZUNIONSTORE", -4, kWrite, {IndexRange(1, 0), ReadOnly(IndexKeynum(2, 0, 1))});

  // Containers: the row used is "NAME|SUBCOMMAND".
  r.Container("FUNCTION");
  r.Container("MEMORY");
  r.Container("OBJECT");
  r.Container("SCRIPT");
  r.Container("XGROUP");
  r.Container("XINFO");

  // Redis 7.4-8.4 and Valkey 9 (hash-field expiries, conditional deletes,
  // MSETEX, stream deletes with references), from their commands/*.json key
  // specs, for sources whose COMMAND reply is not available.
  r.Keyed("DELEX", -2, kWrite, {IndexRange(1, 0)});
  r.Keyed("DELIFEQ", 3, kWrite, {IndexRange(1, 0)});
  r.Keyed("HEXPIRE", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("HEXPIREAT", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("HEXPIRETIME", -5, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HGETDEL", -5, kWrite, {IndexRange(1, 0)});
  r.Keyed("HGETEX", -5, kWrite, {IndexRange(1, 0)});
  r.Keyed("HPERSIST", -5, kWrite, {IndexRange(1, 0)});
  r.Keyed("HPEXPIRE", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("HPEXPIREAT", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("HPEXPIRETIME", -5, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HPTTL", -5, kRead, {ReadOnly(IndexRange(1, 0))});
  r.Keyed("HSETEX", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("HTTL", -5, kRead, {ReadOnly(IndexRange(1, 0))});
  // MSETEX numkeys k v [k v ...] [NX|XX] [EX s|PX ms|...]: split like MSET,
  // each part with its own count and the same conditions and expiry (the
  // source has checked NX/XX on all the keys at once).
  r.Split("MSETEX", -4, kWrite, {IndexKeynum(1, 0, 1, 2)});
  // Redis 8's vector sets (a module built in; COMMAND reports arity -1).
  r.Keyed("VADD", -1, kWrite, {IndexRange(1, 0)});
  r.Keyed("VREM", -1, kWrite, {IndexRange(1, 0)});
  r.Keyed("VSETATTR", -1, kWrite, {IndexRange(1, 0)});
  r.Keyed("XACKDEL", -6, kWrite, {IndexRange(1, 0)});
  r.Keyed("XDELEX", -5, kWrite, {IndexRange(1, 0)});
  // Without keys.
  r.Keyless("DISCARD", 1, kRead, RouteKind::kDiscard);
  r.Keyless("EXEC", 1, kRead, RouteKind::kExec);
  r.Keyless("FLUSHALL", -1, kWrite, RouteKind::kBroadcast);
  r.Keyless("FLUSHDB", -1, kWrite, RouteKind::kBroadcastInDb);
  r.Keyless("FUNCTION|DELETE", 3, kWrite, RouteKind::kBroadcast);
  r.Keyless("FUNCTION|FLUSH", -2, kWrite, RouteKind::kBroadcast);
  r.Keyless("FUNCTION|LOAD", -3, kWrite, RouteKind::kBroadcast);
  r.Keyless("FUNCTION|RESTORE", -3, kWrite, RouteKind::kBroadcast);
  r.Keyless("MULTI", 1, kRead, RouteKind::kMulti);
  r.Keyless("PING", -1, kRead, RouteKind::kBroadcast);
  r.Keyless("PUBLISH", 3, kRead, RouteKind::kBroadcast);
  r.Keyless("REPLCONF", -1, kRead, RouteKind::kIntercepted);
  r.Keyless("SCRIPT|FLUSH", -2, kWrite, RouteKind::kBroadcast);
  r.Keyless("SCRIPT|LOAD", 3, kWrite, RouteKind::kBroadcast);
  r.Keyless("SELECT", 2, kRead, RouteKind::kSelect);
  r.Keyless("SPUBLISH", 3, kRead, RouteKind::kBroadcast);
  r.Keyless("SWAPDB", 3, kWrite, RouteKind::kBroadcast);
  return r.Take();
}

}  // namespace reshard::engine
