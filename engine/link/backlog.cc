#include "engine/link/backlog.h"

#include <algorithm>

namespace reshard::engine {

Backlog::Backlog(uint64_t capacity) : capacity_(std::max<uint64_t>(capacity, 1)) {}

namespace {

// The first allocation of a growing backlog.
constexpr uint64_t kMinAllocation = 16 << 10;

}  // namespace

void Backlog::Reset(uint64_t offset) {
  end_offset_ = offset;
  size_ = 0;
  write_pos_ = 0;
  std::string().swap(ring_);
}

void Backlog::Append(std::string_view bytes) {
  end_offset_ += bytes.size();
  // Only the last capacity_ bytes can survive.
  if (bytes.size() > capacity_) bytes.remove_prefix(bytes.size() - capacity_);
  if (ring_.size() < capacity_) {
    // Growing: appended in order, the allocation doubling up to capacity_.
    const uint64_t n = std::min<uint64_t>(bytes.size(), capacity_ - ring_.size());
    if (ring_.size() + n > ring_.capacity()) {
      uint64_t want = std::max<uint64_t>({ring_.size() + n, 2 * ring_.capacity(), kMinAllocation});
      ring_.reserve(std::min(want, capacity_));
    }
    ring_.append(bytes.data(), n);
    size_ = ring_.size();
    bytes.remove_prefix(n);
    // Full now (or still growing): the oldest byte is at 0.
    write_pos_ = 0;
  }
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
  if (n == 0) return out;
  out.reserve(n);
  // The byte at end_offset_ sits just before write_pos_ (in a ring of the
  // size it has: capacity_ once full, the valid bytes while growing).
  const uint64_t ring = ring_.size();
  uint64_t pos = (write_pos_ + ring - n % ring) % ring;
  if (n == ring) pos = write_pos_;
  while (out.size() < n) {
    uint64_t chunk = std::min<uint64_t>(n - out.size(), ring - pos);
    out.append(ring_, pos, chunk);
    pos = (pos + chunk) % ring;
  }
  return out;
}

}  // namespace reshard::engine
