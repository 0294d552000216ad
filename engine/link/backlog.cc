#include "engine/link/backlog.h"

#include <algorithm>

namespace reshard::engine {

Backlog::Backlog(uint64_t capacity) : capacity_(std::max<uint64_t>(capacity, 1)) {}

void Backlog::Reset(uint64_t offset) {
  end_offset_ = offset;
  size_ = 0;
  write_pos_ = 0;
}

void Backlog::Append(std::string_view bytes) {
  if (ring_.empty()) ring_.resize(capacity_);
  end_offset_ += bytes.size();
  // Only the last capacity_ bytes can survive.
  if (bytes.size() > capacity_) bytes.remove_prefix(bytes.size() - capacity_);
  while (!bytes.empty()) {
    size_t n = std::min<uint64_t>(bytes.size(), capacity_ - write_pos_);
    ring_.replace(write_pos_, n, bytes.data(), n);
    write_pos_ = (write_pos_ + n) % capacity_;
    bytes.remove_prefix(n);
    size_ = std::min<uint64_t>(size_ + n, capacity_);
  }
}

bool Backlog::CanContinueFrom(uint64_t psync_offset) const {
  return psync_offset >= start_offset() && psync_offset <= end_offset_ + 1;
}

std::string Backlog::CopyFrom(uint64_t psync_offset) const {
  uint64_t n = end_offset_ + 1 - psync_offset;
  std::string out;
  out.reserve(n);
  // The byte at end_offset_ sits just before write_pos_.
  uint64_t pos = (write_pos_ + capacity_ - n % capacity_) % capacity_;
  if (n == capacity_) pos = write_pos_;
  while (out.size() < n) {
    uint64_t chunk = std::min<uint64_t>(n - out.size(), capacity_ - pos);
    out.append(ring_, pos, chunk);
    pos = (pos + chunk) % capacity_;
  }
  return out;
}

}  // namespace reshard::engine
