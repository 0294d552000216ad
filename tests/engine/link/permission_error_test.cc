#include "engine/link/permission_error.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

AclRefusal Refusal(std::string error, std::string sent = "", std::string categories = "") {
  AclRefusal refusal;
  refusal.peer = "source 127.0.0.1:6379";
  refusal.user = "reshard-source";
  refusal.sent = std::move(sent);
  refusal.error = std::move(error);
  refusal.categories = std::move(categories);
  return refusal;
}

TEST(AclRefusalTest, RecognisesNoperm) {
  EXPECT_TRUE(IsAclRefusal("NOPERM this user has no permissions to run the 'psync' command"));
  EXPECT_FALSE(IsAclRefusal("ERR unknown command 'PEXPIRETIME'"));
  EXPECT_FALSE(IsAclRefusal("NOAUTH Authentication required."));
}

TEST(AclRefusalTest, NamesSubcommandsAsAclDoes) {
  EXPECT_EQ(AclCommandName({"PSYNC", "?", "-1"}), "psync");
  EXPECT_EQ(AclCommandName({"CLIENT", "PAUSE", "100", "WRITE"}), "client|pause");
  EXPECT_EQ(AclCommandName({"config", "SET", "masterauth", "x"}), "config|set");
  EXPECT_EQ(AclCommandName({"XINFO", "STREAM", "k"}), "xinfo|stream");
  EXPECT_EQ(AclCommandName({"INFO", "replication"}), "info");
  EXPECT_EQ(AclCommandName({}), "");
}

TEST(AclRefusalTest, TakesTheCommandFromRedis70And72Texts) {
  EXPECT_EQ(RefusedCommand(Refusal("NOPERM this user has no permissions to run the 'psync' command",
                                   "replconf")),
            "psync");
  EXPECT_EQ(RefusedCommand(Refusal(
                "NOPERM User reshard-source has no permissions to run the 'config|set' command")),
            "config|set");
  EXPECT_EQ(RefusedCommand(Refusal(
                "NOPERM this user has no permissions to access one of the keys used as arguments",
                "dump")),
            "dump");
}

TEST(AclRefusalTest, BuiltInCategoriesWhenTheServerGaveNone) {
  EXPECT_EQ(AclRefusalMessage(
                Refusal("NOPERM this user has no permissions to run the 'client|pause' command")),
            "NOPERM user 'reshard-source' on source 127.0.0.1:6379 may not run 'client|pause' (ACL "
            "categories @admin @slow @dangerous @connection): add +client|pause to its ACL rules "
            "(README.md, Least privilege)");
}

TEST(AclRefusalTest, TheServersCategoriesWin) {
  EXPECT_EQ(
      AclRefusalMessage(Refusal("NOPERM this user has no permissions to run the 'dump' command", "",
                                "@keyspace @read @slow @new")),
      "NOPERM user 'reshard-source' on source 127.0.0.1:6379 may not run 'dump' (ACL categories "
      "@keyspace @read @slow @new): add +dump to its ACL rules (README.md, Least privilege)");
}

TEST(AclRefusalTest, ASubcommandOfADocumentedWholeCommandNamesTheDocumentedRule) {
  EXPECT_EQ(AclRefusalMessage(
                Refusal("NOPERM this user has no permissions to run the 'command|info' command")),
            "NOPERM user 'reshard-source' on source 127.0.0.1:6379 may not run 'command|info' (ACL "
            "categories @slow @connection): add +command to its ACL rules (README.md, Least "
            "privilege)");
}

TEST(AclRefusalTest, AnUnknownCommandGetsItsOwnRuleWithoutCategories) {
  EXPECT_EQ(
      AclRefusalMessage(
          Refusal("NOPERM this user has no permissions to run the 'waitaof' command")),
      "NOPERM user 'reshard-source' on source 127.0.0.1:6379 may not run 'waitaof': add +waitaof "
      "to its ACL rules (README.md, Least privilege)");
}

TEST(AclRefusalTest, AKeyRefusalNamesTheKeyRule) {
  EXPECT_EQ(AclRefusalMessage(Refusal(
                "NOPERM this user has no permissions to access one of the keys used as arguments",
                "dump")),
            "NOPERM user 'reshard-source' on source 127.0.0.1:6379 may not access the keys of "
            "'dump': add the key rule %R~* to its ACL rules (README.md, Least privilege)");
}

TEST(AclRefusalTest, AnyOtherTextIsKeptWithTheConnection) {
  EXPECT_EQ(AclRefusalMessage(Refusal("NOPERM something else")),
            "NOPERM user 'reshard-source' on source 127.0.0.1:6379: NOPERM something else");
  AclRefusal no_user = Refusal("NOPERM this user has no permissions to access a channel", "ping");
  no_user.user.clear();
  EXPECT_EQ(AclRefusalMessage(no_user),
            "NOPERM user 'default' on source 127.0.0.1:6379: NOPERM this user has no permissions "
            "to access a channel");
}

}  // namespace
}  // namespace reshard::engine
