#pragma once

// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr
// (Debian's abseil 20220623 ships neither). CO_RETURN_IF_ERROR and
// CO_ASSIGN_OR_RETURN are the same for coroutines (co_return).

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RESHARD_CONCAT_INNER(a, b) a##b
#define RESHARD_CONCAT(a, b) RESHARD_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status _reshard_status = (expr);           \
    if (!_reshard_status.ok()) return _reshard_status; \
  } while (0)

#define CO_RETURN_IF_ERROR(expr)                          \
  do {                                                    \
    ::absl::Status _reshard_status = (expr);              \
    if (!_reshard_status.ok()) co_return _reshard_status; \
  } while (0)

#define RESHARD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ret) \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) ret std::move(tmp).status();              \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  RESHARD_ASSIGN_OR_RETURN_IMPL(RESHARD_CONCAT(_reshard_sor_, __LINE__), lhs, expr, return )

#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  RESHARD_ASSIGN_OR_RETURN_IMPL(RESHARD_CONCAT(_reshard_sor_, __LINE__), lhs, expr, co_return )
