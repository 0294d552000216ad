#include "engine/route/expiry_rewriter.h"

#include <charconv>
#include <optional>
#include <span>

#include "absl/strings/match.h"
#include "engine/base/absl_view.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

// Where a command carries its relative expiry.
enum class ExpiryForm {
  kSetOption,     // SET key value [NX|XX] [GET] EX s|PX ms, options in any order
  kSetexAmount,   // SETEX/PSETEX key amount value
  kExpireAmount,  // EXPIRE/PEXPIRE key amount [NX|XX|GT|LT]
  kGetexOption,   // GETEX key EX s|PX ms
  kRestoreTtl,    // RESTORE key ttl-ms payload [REPLACE] [IDLETIME s] [FREQ f], no ABSTTL
};

struct RelativeExpiryCommand {
  std::string_view name;  // the command table's row name
  ExpiryForm form;
  int64_t unit_ms;  // ms per unit of the amount; 0: its EX or PX option says
};

// Every command a source may replicate with a relative expiry; the others,
// and these in their absolute forms, pass unchanged.
constexpr RelativeExpiryCommand kRelativeExpiryCommands[] = {
    {"SET", ExpiryForm::kSetOption, 0},        {"SETEX", ExpiryForm::kSetexAmount, 1000},
    {"PSETEX", ExpiryForm::kSetexAmount, 1},   {"EXPIRE", ExpiryForm::kExpireAmount, 1000},
    {"PEXPIRE", ExpiryForm::kExpireAmount, 1}, {"GETEX", ExpiryForm::kGetexOption, 0},
    {"RESTORE", ExpiryForm::kRestoreTtl, 1},   {"RESTORE-ASKING", ExpiryForm::kRestoreTtl, 1},
};

const RelativeExpiryCommand* FindRelativeExpiryCommand(std::string_view name) {
  for (const RelativeExpiryCommand& command : kRelativeExpiryCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

bool Is(std::string_view arg, absl::string_view word) {
  return absl::EqualsIgnoreCase(AsAbsl(arg), word);
}

// The ms per unit of an EX or PX option; 0 for another argument.
int64_t OptionUnitMs(std::string_view arg) {
  if (Is(arg, "EX")) return 1000;
  if (Is(arg, "PX")) return 1;
  return 0;
}

std::optional<int64_t> ParseInt64(std::string_view arg) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
  if (ec != std::errc() || ptr != arg.data() + arg.size() || arg.empty()) return std::nullopt;
  return v;
}

// now + amount * unit, unless the amount is not a number or that overflows.
std::optional<int64_t> AbsoluteMs(int64_t now_ms, std::string_view amount_arg, int64_t unit_ms) {
  std::optional<int64_t> amount = ParseInt64(amount_arg);
  int64_t ms = 0, at = 0;
  if (!amount || __builtin_mul_overflow(*amount, unit_ms, &ms) ||
      __builtin_add_overflow(now_ms, ms, &at)) {
    return std::nullopt;
  }
  return at;
}

// A unix time in ms as a RESP argument.
class MsText {
 public:
  explicit MsText(int64_t ms) {
    auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), ms);
    len_ = end - buf_;
  }
  std::string_view view() const { return std::string_view(buf_, len_); }

 private:
  char buf_[24];
  size_t len_ = 0;
};

}  // namespace

void ExpiryRewriter::SetWithExpiry(std::string_view key, std::string_view value, int64_t at,
                                   bool in_transaction) {
  MsText text(at);
  AppendCommand(&pxat_form_, {"SET", key, value, "PXAT", text.view()});
  if (!in_transaction) AppendCommand(&compat_, {"MULTI"});
  AppendCommand(&compat_, {"SET", key, value});
  AppendCommand(&compat_, {"PEXPIREAT", key, text.view()});
  if (!in_transaction) AppendCommand(&compat_, {"EXEC"});
}

bool ExpiryRewriter::Rewrite(const CommandInfo& info, const RespCommand& cmd, bool in_transaction) {
  if (now_ms_ <= 0 || !enabled_) return false;
  const RelativeExpiryCommand* command = FindRelativeExpiryCommand(info.name);
  if (command == nullptr) return false;
  std::span<const std::string_view> args = cmd.args;
  pxat_form_.clear();
  compat_.clear();
  switch (command->form) {
    case ExpiryForm::kSetOption: {
      if (args.size() < 5) return false;
      int64_t unit = 0;
      std::string_view amount;
      for (size_t i = 3; i < args.size(); ++i) {
        if (Is(args[i], "NX") || Is(args[i], "XX") || Is(args[i], "GET")) continue;
        if (OptionUnitMs(args[i]) != 0 && i + 1 < args.size() && unit == 0) {
          unit = OptionUnitMs(args[i]);
          amount = args[++i];
          continue;
        }
        return false;  // absolute already, KEEPTTL, or not for us to judge
      }
      if (unit == 0) return false;
      std::optional<int64_t> at = AbsoluteMs(now_ms_, amount, unit);
      if (!at) return false;
      SetWithExpiry(args[1], args[2], *at, in_transaction);
      return true;
    }
    case ExpiryForm::kSetexAmount: {
      if (args.size() != 4) return false;
      std::optional<int64_t> at = AbsoluteMs(now_ms_, args[2], command->unit_ms);
      if (!at) return false;
      SetWithExpiry(args[1], args[3], *at, in_transaction);
      return true;
    }
    case ExpiryForm::kExpireAmount: {
      // The NX/XX/GT/LT flags, if any, stay.
      if (args.size() < 3) return false;
      std::optional<int64_t> at = AbsoluteMs(now_ms_, args[2], command->unit_ms);
      if (!at) return false;
      MsText text(*at);
      args_.assign(args.begin(), args.end());
      args_[0] = "PEXPIREAT";
      args_[2] = text.view();
      AppendCommand(&pxat_form_, args_);
      return true;
    }
    case ExpiryForm::kGetexOption: {
      // GETEX key EX s|PX ms: its only effect is the expiry.
      if (args.size() != 4 || OptionUnitMs(args[2]) == 0) return false;
      std::optional<int64_t> at = AbsoluteMs(now_ms_, args[3], OptionUnitMs(args[2]));
      if (!at) return false;
      MsText text(*at);
      AppendCommand(&pxat_form_, {"PEXPIREAT", args[1], text.view()});
      return true;
    }
    case ExpiryForm::kRestoreTtl: {
      if (args.size() < 4) return false;
      for (size_t i = 4; i < args.size(); ++i) {
        if (Is(args[i], "ABSTTL")) return false;
      }
      std::optional<int64_t> ttl = ParseInt64(args[2]);
      if (!ttl || *ttl <= 0) return false;  // 0: no expiry
      std::optional<int64_t> at = AbsoluteMs(now_ms_, args[2], command->unit_ms);
      if (!at) return false;
      MsText text(*at);
      args_.assign(args.begin(), args.end());
      args_[2] = text.view();
      args_.push_back("ABSTTL");
      AppendCommand(&pxat_form_, args_);
      return true;
    }
  }
  return false;
}

}  // namespace reshard::engine
