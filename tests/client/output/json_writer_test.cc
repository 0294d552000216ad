// JsonWriter and JsonString: compact JSON with commas placed by nesting, and
// every byte outside printable ASCII escaped as \u00XX.

#include "client/output/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "reshard/v1/job_service.pb.h"

namespace reshard::client {
namespace {

TEST(JsonWriterTest, NestedObjectsAndArrays) {
  JsonWriter json;
  json.BeginObject()
      .Key("a")
      .Number(1)
      .Key("list")
      .BeginArray()
      .Number(uint64_t{18446744073709551615u})
      .String("x")
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .Key("n")
      .Number(int64_t{-5})
      .EndObject();
  EXPECT_EQ(json.json(), R"({"a":1,"list":[18446744073709551615,"x",{},[]],"n":-5})");
}

TEST(JsonWriterTest, EmptyContainers) {
  EXPECT_EQ(JsonWriter().BeginObject().EndObject().json(), "{}");
  EXPECT_EQ(JsonWriter().BeginArray().EndArray().json(), "[]");
}

TEST(JsonWriterTest, StringsEscapeQuotesBackslashesAndEveryNonPrintableByte) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString(std::string("\n\x01\x7f\xff", 4)), R"("\u000a\u0001\u007f\u00ff")");
  EXPECT_EQ(JsonString(std::string("\0", 1)), R"("\u0000")");
  JsonWriter json;
  json.BeginObject().Key("k\xe9").String("v").EndObject();
  EXPECT_EQ(json.json(), R"({"k\u00e9":"v"})");
}

TEST(JsonWriterTest, MessagesUseTheProtoNamesAndPrintZeroFields) {
  v1::JobStatus status;
  status.set_source_offset(0);
  std::string one_line = MessageToJson(status, /*multi_line=*/false);
  EXPECT_NE(one_line.find(R"("source_offset":"0")"), std::string::npos) << one_line;
  EXPECT_EQ(one_line.find('\n'), std::string::npos);
  EXPECT_NE(MessageToJson(status, /*multi_line=*/true).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace reshard::client
