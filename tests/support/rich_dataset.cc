#include "tests/support/rich_dataset.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/test_servers.h"

namespace reshard::testing {

void FillRichDataset(RedisClient& client, int n) {
  std::vector<std::vector<std::string>> c;
  for (int i = 0; i < n; ++i) {
    std::string k = absl::StrCat("k", i);
    switch (i % 7) {
      case 0:
        c.push_back({"SET", k + ":s", absl::StrCat("value-", i)});
        if (i % 3 == 0) c.push_back({"PEXPIRE", k + ":s", "3600000"});
        break;
      case 1:
        c.push_back({"RPUSH", k + ":l", "a", "b", std::to_string(i)});
        break;
      case 2:
        c.push_back({"HSET", "{h}" + k, "f", "v", "g", std::to_string(i)});
        break;
      case 3:
        c.push_back({"SADD", k + ":set", "x", "y", std::to_string(i)});
        c.push_back({"EXPIRE", k + ":set", "7200"});
        break;
      case 4:
        c.push_back({"ZADD", k + ":z", "1", "a", "2.5", std::to_string(i)});
        break;
      case 5:
        c.push_back({"SET", k, std::to_string(i)});  // integer-encoded
        break;
      case 6:
        c.push_back({"XADD", k + ":x", "*", "f", std::to_string(i)});
        break;
    }
  }
  for (int j = 0; j < 300; ++j) {
    std::string m = std::to_string(j);
    c.push_back({"SADD", "bigset", m + "member"});
    c.push_back({"HSET", "bighash", "field" + m, std::string(100, 'h')});
    c.push_back({"ZADD", "bigzset", m, "member" + m});
    c.push_back({"RPUSH", "biglist", std::string(200, 'l') + m});
    c.push_back({"XADD", "bigstream", absl::StrCat(j + 1, "-1"), "n", m});
  }
  c.push_back({"XGROUP", "CREATE", "bigstream", "g1", "0"});
  c.push_back({"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "bigstream", ">"});
  c.push_back({"SET", "big", std::string(2 << 20, 'b')});
  c.push_back({"SET", "expiring", "soon", "PX", "600000"});
  RunWithoutErrors(client, c);
}

}  // namespace reshard::testing
