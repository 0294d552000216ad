#include "engine/rdb/crc64.h"

#include <atomic>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define RESHARD_CRC64_CLMUL 1
#else
#define RESHARD_CRC64_CLMUL 0
#endif

namespace reshard::engine {
namespace {

constexpr uint64_t kPoly = 0x95AC9329AC4BC9B5ULL;
constexpr int kSlices = 16;

// Reflected representation, as everywhere in this file: bit i of a uint64_t
// is the coefficient of x^(63 - i). Multiplying by x is then a right shift,
// and a coefficient leaving x^63 becomes x^64 = kPoly (mod P).
constexpr uint64_t MulXModP(uint64_t v) { return (v & 1) ? (v >> 1) ^ kPoly : v >> 1; }

// x^n mod P, straight from the definition (only used for constants).
constexpr uint64_t XPowModP(int n) {
  uint64_t v = uint64_t{1} << 63;  // x^0
  for (int i = 0; i < n; ++i) v = MulXModP(v);
  return v;
}
static_assert(XPowModP(63) == 1, "x^63 is bit 0");
static_assert(XPowModP(64) == kPoly, "x^64 mod P is P without its x^64 term");

// kTables[0] is the classic byte-at-a-time table; kTables[k][b] is the CRC of
// byte b followed by k zero bytes, so 16 input bytes fold in one step
// (slicing-by-16).
struct Tables {
  uint64_t t[kSlices][256];
};

constexpr Tables MakeTables() {
  Tables tables{};
  for (int i = 0; i < 256; ++i) {
    uint64_t crc = static_cast<uint64_t>(i);
    for (int bit = 0; bit < 8; ++bit) crc = MulXModP(crc);
    tables.t[0][i] = crc;
  }
  for (int k = 1; k < kSlices; ++k) {
    for (int i = 0; i < 256; ++i) {
      uint64_t prev = tables.t[k - 1][i];
      tables.t[k][i] = (prev >> 8) ^ tables.t[0][prev & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

inline uint64_t LoadLe64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // x86-64 and aarch64 builds are little-endian
}

// The CRC (init 0) of the 8 bytes whose little-endian value is a, i.e.
// a(x) * x^64 mod P.
inline uint64_t Crc8Bytes(uint64_t a) {
  const auto& t = kTables.t;
  return t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^ t[5][(a >> 16) & 0xff] ^ t[4][(a >> 24) & 0xff] ^
         t[3][(a >> 32) & 0xff] ^ t[2][(a >> 40) & 0xff] ^ t[1][(a >> 48) & 0xff] ^ t[0][a >> 56];
}

// Fewer than 16 bytes: one 8-byte step, then byte at a time.
inline uint64_t Crc64Short(uint64_t crc, const unsigned char* p, size_t n) {
  if (n >= 8) {
    crc = Crc8Bytes(LoadLe64(p) ^ crc);
    p += 8;
    n -= 8;
  }
  while (n--) crc = kTables.t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if RESHARD_CRC64_CLMUL

// Carry-less multiplication folding (Intel, "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ", 2009), in the reflected domain.
//
// A 16-byte block loaded into an XMM register has stream bit j (byte j / 8,
// least significant bit first) at register bit j, the coefficient of
// x^(127 - j): its low qword H holds x^127..x^64 and its high qword L holds
// x^63..x^0, each in the reflected 64-bit form above. PCLMULQDQ of two
// reflected 64-bit values a and b puts the coefficient of x^(126 - k) of a*b
// at bit k, which read as a 128-bit reflected value is a*b*x. Hence the
// constants below are x^(n-1) mod P for a wanted factor x^n.
//
// Folding a block X = H*x^64 + L forward by D bits (over the D bits that
// follow it) keeps X*x^D mod P in 128 bits:
//   X*x^D == H*(x^(D+64) mod P) + L*(x^D mod P)   (mod P)
// Each product has degree <= 127, so the sum fits in one register and is
// XORed into the block D bits further on.
struct FoldConstants {
  uint64_t h;  // for the low qword: x^(D+63) mod P
  uint64_t l;  // for the high qword: x^(D-1) mod P
};

constexpr FoldConstants MakeFoldConstants(int distance_bits) {
  return {XPowModP(distance_bits + 63), XPowModP(distance_bits - 1)};
}

constexpr int kLanes = 8;                                              // blocks in flight
constexpr FoldConstants kFold16 = MakeFoldConstants(128);              // to the next block
constexpr FoldConstants kFoldLanes = MakeFoldConstants(128 * kLanes);  // to the same lane
// The final step multiplies H by x^128 (see Crc64Clmul).
constexpr uint64_t kX127 = XPowModP(127);

__attribute__((target("pclmul,sse4.1"))) inline __m128i Fold(__m128i x, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

__attribute__((target("pclmul,sse4.1"))) inline __m128i Load128(const unsigned char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

__attribute__((target("pclmul,sse4.1"))) uint64_t Crc64ClmulRaw(uint64_t crc,
                                                                const unsigned char* p, size_t n) {
  if (n < 16) return Crc64Short(crc, p, n);
  // CRC(crc, M) == CRC(0, M with crc XORed into its first 8 bytes).
  __m128i x0 = _mm_xor_si128(Load128(p), _mm_cvtsi64_si128(static_cast<int64_t>(crc)));
  p += 16;
  n -= 16;
  const __m128i k16 = _mm_set_epi64x(static_cast<int64_t>(kFold16.l),  //
                                     static_cast<int64_t>(kFold16.h));
  if (n >= 16 * (kLanes - 1) + 16 * kLanes) {
    // Eight independent lanes hide PCLMULQDQ's latency.
    __m128i x[kLanes];
    x[0] = x0;
    for (int i = 1; i < kLanes; ++i) x[i] = Load128(p + 16 * (i - 1));
    p += 16 * (kLanes - 1);
    n -= 16 * (kLanes - 1);
    const __m128i kl =
        _mm_set_epi64x(static_cast<int64_t>(kFoldLanes.l), static_cast<int64_t>(kFoldLanes.h));
    while (n >= 16 * kLanes) {
      for (int i = 0; i < kLanes; ++i) x[i] = _mm_xor_si128(Fold(x[i], kl), Load128(p + 16 * i));
      p += 16 * kLanes;
      n -= 16 * kLanes;
    }
    x0 = x[0];
    for (int i = 1; i < kLanes; ++i) x0 = _mm_xor_si128(Fold(x0, k16), x[i]);
  }
  while (n >= 16) {
    x0 = _mm_xor_si128(Fold(x0, k16), Load128(p));
    p += 16;
    n -= 16;
  }
  // The CRC of the bytes so far is X*x^64 mod P = H*x^128 + L*x^64 (mod P).
  // Y = H*(x^128 mod P) + L*x^64 is that, below x^128: its low qword Yh holds
  // x^127..x^64 and its high qword Yl x^63..x^0, so
  // Y mod P = Yh*x^64 mod P + Yl = Crc8Bytes(Yh) ^ Yl.
  __m128i y = _mm_xor_si128(_mm_clmulepi64_si128(x0, _mm_cvtsi64_si128(kX127), 0x00),
                            _mm_srli_si128(x0, 8));
  crc = Crc8Bytes(static_cast<uint64_t>(_mm_cvtsi128_si64(y))) ^
        static_cast<uint64_t>(_mm_extract_epi64(y, 1));
  return Crc64Short(crc, p, n);
}

bool CpuHasClmul() {
  __builtin_cpu_init();  // may run before the runtime's own initializer
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

#endif  // RESHARD_CRC64_CLMUL

using Crc64Fn = uint64_t (*)(uint64_t, std::string_view);

// Constant-initialized, so Crc64 works (with tables) even from static
// initializers that run before the switch below.
std::atomic<Crc64Fn> large_impl{&internal::Crc64Table};

Crc64Fn AutomaticLargeImpl() {
  return internal::Crc64ClmulAvailable() ? &internal::Crc64Clmul : &internal::Crc64Table;
}

[[maybe_unused]] const bool kLargeImplChosen = [] {
  large_impl.store(AutomaticLargeImpl(), std::memory_order_relaxed);
  return true;
}();

}  // namespace

namespace internal {

uint64_t Crc64Table(uint64_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  const auto& t = kTables.t;
  while (n >= 16) {
    uint64_t a = LoadLe64(p) ^ crc;
    uint64_t b = LoadLe64(p + 8);
    crc = t[15][a & 0xff] ^ t[14][(a >> 8) & 0xff] ^ t[13][(a >> 16) & 0xff] ^
          t[12][(a >> 24) & 0xff] ^ t[11][(a >> 32) & 0xff] ^ t[10][(a >> 40) & 0xff] ^
          t[9][(a >> 48) & 0xff] ^ t[8][a >> 56] ^ t[7][b & 0xff] ^ t[6][(b >> 8) & 0xff] ^
          t[5][(b >> 16) & 0xff] ^ t[4][(b >> 24) & 0xff] ^ t[3][(b >> 32) & 0xff] ^
          t[2][(b >> 40) & 0xff] ^ t[1][(b >> 48) & 0xff] ^ t[0][b >> 56];
    p += 16;
    n -= 16;
  }
  return Crc64Short(crc, p, n);
}

uint64_t Crc64Clmul(uint64_t crc, std::string_view data) {
#if RESHARD_CRC64_CLMUL
  return Crc64ClmulRaw(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
#else
  return Crc64Table(crc, data);
#endif
}

bool Crc64ClmulAvailable() {
#if RESHARD_CRC64_CLMUL
  static const bool available = CpuHasClmul();
  return available;
#else
  return false;
#endif
}

void ForceCrc64TableForTesting(bool force) {
  large_impl.store(force ? &Crc64Table : AutomaticLargeImpl(), std::memory_order_relaxed);
}

}  // namespace internal

uint64_t Crc64(uint64_t crc, std::string_view data) {
  if (data.size() < internal::kCrc64ClmulMinBytes) return internal::Crc64Table(crc, data);
  return large_impl.load(std::memory_order_relaxed)(crc, data);
}

}  // namespace reshard::engine
