#include "engine/route/transaction_builder.h"

#include "engine/resp/resp_writer.h"

namespace reshard::engine {

TransactionBuilder::TransactionBuilder(size_t target_count)
    : part_(target_count), part_db_(target_count, kUnknownDb), used_(target_count, 0) {}

absl::Status TransactionBuilder::Begin(const DbTracker& dbs) {
  if (open_) return absl::FailedPreconditionError("MULTI inside MULTI");
  open_ = true;
  source_db_at_begin_ = dbs.source_db();
  for (size_t i = 0; i < part_.size(); ++i) {
    part_[i].clear();
    part_db_[i] = dbs.target_db(i);
    used_[i] = 0;
  }
  return absl::OkStatus();
}

std::string& TransactionBuilder::Part(size_t i) {
  used_[i] = 1;
  return part_[i];
}

std::string& TransactionBuilder::PartInDb(size_t i, int db) {
  std::string& part = Part(i);
  SelectDbIn(db, &part_db_[i], &part);
  return part;
}

absl::Status TransactionBuilder::Commit(DbTracker* dbs, std::vector<std::string>* out) {
  if (!open_) return absl::FailedPreconditionError("EXEC without MULTI");
  for (size_t i = 0; i < part_.size(); ++i) {
    if (!used_[i]) continue;  // its db stays what it was
    std::string& o = (*out)[i];
    AppendCommand(&o, {"MULTI"});
    o.append(part_[i]);
    AppendCommand(&o, {"EXEC"});
    dbs->SetTargetDb(i, part_db_[i]);
  }
  open_ = false;
  return absl::OkStatus();
}

absl::Status TransactionBuilder::Discard(DbTracker* dbs) {
  if (!open_) return absl::FailedPreconditionError("DISCARD without MULTI");
  dbs->SetSourceDb(source_db_at_begin_);
  open_ = false;
  return absl::OkStatus();
}

}  // namespace reshard::engine
