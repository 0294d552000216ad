// The replication stream's hot path: RESP parsing alone, and parsing plus
// routing to two targets (single-key writes whole, MSET/DEL split), over a
// buffer of typical replicated commands. Reports commands/s and bytes/s.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/resp/command_table.h"
#include "engine/resp/resp_parser.h"
#include "engine/resp/resp_writer.h"
#include "engine/route/command_router.h"
#include "engine/route/key_filter.h"

namespace reshard::engine {
namespace {

// 100k commands: SET with a 100-byte value and PXAT (how Redis 7 replicates
// SET EX), HSET, INCR, and every 16th an MSET / DEL across both halves.
std::string MakeStream(size_t* commands) {
  std::string out;
  AppendCommand(&out, {"SELECT", "0"});
  std::string value(100, 'v');
  *commands = 1;
  for (int i = 0; i < 100000; ++i) {
    std::string key = absl::StrCat(i % 10, ":key:", i);
    std::string other = absl::StrCat((i + 5) % 10, ":key:", i);
    switch (i % 16) {
      case 0:
        AppendCommand(&out, {"MSET", key, "a", other, "b"});
        break;
      case 1:
        AppendCommand(&out, {"DEL", key, other});
        break;
      case 2:
        AppendCommand(&out, {"HSET", key, "field", value});
        break;
      case 3:
        AppendCommand(&out, {"INCR", key});
        break;
      default:
        AppendCommand(&out, {"SET", key, value, "PXAT", "1893456000000"});
    }
    ++*commands;
  }
  return out;
}

void BM_RespParse(benchmark::State& state) {
  size_t commands = 0;
  const std::string stream = MakeStream(&commands);
  for (auto _ : state) {
    RespParser parser;
    std::string_view in = stream;
    RespCommand command;
    size_t consumed = 0;
    while (!in.empty() && parser.Parse(in, &consumed, &command) == ParseResult::kOk) {
      benchmark::DoNotOptimize(command.args.data());
      in.remove_prefix(consumed);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * commands));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_RespParse)->Unit(benchmark::kMillisecond);

void BM_RespParseAndRoute(benchmark::State& state) {
  size_t commands = 0;
  const std::string stream = MakeStream(&commands);
  auto low = MakeKeyFilter({FilterKind::kRegex, "^[0-4]"});
  auto high = MakeKeyFilter({FilterKind::kRegex, "^[5-9]"});
  if (!low.ok() || !high.ok()) {
    state.SkipWithError("filters");
    return;
  }
  for (auto _ : state) {
    RespParser parser;
    CommandRouter router({low->get(), high->get()}, &CommandTable::Builtin());
    std::vector<std::string> out(2);
    std::string_view in = stream;
    RespCommand command;
    size_t consumed = 0;
    while (!in.empty() && parser.Parse(in, &consumed, &command) == ParseResult::kOk) {
      if (!router.Route(command, &out).ok()) {
        state.SkipWithError("route failed");
        return;
      }
      in.remove_prefix(consumed);
      if (out[0].size() > (1 << 20)) out[0].clear();
      if (out[1].size() > (1 << 20)) out[1].clear();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * commands));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_RespParseAndRoute)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reshard::engine
