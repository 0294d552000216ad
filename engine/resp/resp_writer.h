#pragma once

// Appends RESP to a caller-owned std::string: commands (arrays of bulk
// strings) for the streams reshardd sends to targets, and the replies its
// master side gives to the targets' replicas. Nothing is kept between calls.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace reshard::engine {

// "*<n>\r\n" then "$<len>\r\n<arg>\r\n" per argument.
void AppendCommand(std::string* out, std::span<const std::string_view> args);
void AppendCommand(std::string* out, std::initializer_list<std::string_view> args);

// "*<n>\r\n": the header of an array whose elements the caller appends.
void AppendArrayHeader(std::string* out, size_t n);

// "+<s>\r\n". Precondition: s holds no CR or LF (callers pass constants).
void AppendSimpleString(std::string* out, std::string_view s);

// "-<message>\r\n"; CR and LF in `message` become spaces so the reply stays
// one line (Redis does the same).
void AppendError(std::string* out, std::string_view message);

// ":<v>\r\n".
void AppendInteger(std::string* out, int64_t v);

// "$<len>\r\n<s>\r\n".
void AppendBulk(std::string* out, std::string_view s);

// "$-1\r\n".
void AppendNullBulk(std::string* out);

}  // namespace reshard::engine
