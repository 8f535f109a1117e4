// matmul-int8-v1, the hardware challenge, in C++ for the verify-cuda image. Bit for bit the
// arithmetic of protocol/matmul-challenge.ts (the control plane checks rows with that
// file; test/agent/verification-cuda-source.test.ts compares the two):
//   entry(key, index)  murmur3-style finaliser of (index·0x9e3779b1 ^ key), low byte − 128
//   A_p[i][k] = entry(key(seed, A, p), i·n + k),  B_p[k][j] = entry(key(seed, B, p), k·n + j)
//   C_p = A_p·B_p with int32 accumulation (wrapping, as the TypeScript `| 0`)
//   h_i⁰ = 32 zero bytes,  h_iᵖ⁺¹ = SHA-256(h_iᵖ ‖ row_i(C_p) as int32 little-endian)
//   answer = first 8 bytes of every h_iᴾ, rows in order.
// The entry/key/accumulate functions are __host__ __device__ so the kernel and the CPU reference
// build share them; the header also compiles as plain C++17 (no CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define GP_HD __host__ __device__ __forceinline__
#else
#define GP_HD inline
#endif

namespace gridplane {

constexpr const char* kChallengeKind = "matmul-int8-v1";
constexpr int kDigestBytes = 8;
// The agent's accepted ranges (edge-agent/src/verification/challenge-runner.ts).
constexpr uint32_t kMaxN = 1u << 16;
constexpr uint32_t kMaxProducts = 1u << 12;

// ---- seed expansion --------------------------------------------------------------------------

// The seed's 64 hex characters as 8 big-endian 32-bit words (parseInt of each 8-character slice).
// Returns false unless the seed is exactly 64 lower-case hex characters.
inline bool seed_words(const char* hex, uint32_t words[8]) {
  size_t len = 0;
  while (hex[len] != '\0') len++;
  if (len != 64) return false;
  for (int w = 0; w < 8; w++) {
    uint32_t v = 0;
    for (int c = 0; c < 8; c++) {
      char ch = hex[w * 8 + c];
      uint32_t d;
      if (ch >= '0' && ch <= '9') d = static_cast<uint32_t>(ch - '0');
      else if (ch >= 'a' && ch <= 'f') d = static_cast<uint32_t>(ch - 'a' + 10);
      else return false;
      v = (v << 4) | d;
    }
    words[w] = v;
  }
  return true;
}

// Key of matrix `which` (0 = A, 1 = B) of product p: words[which·4 + (p & 3)]
//   ^ imul(p + 1, 0x27d4eb2f) ^ imul(p >>> 2, 0x165667b1), all mod 2³².
GP_HD uint32_t matrix_key(const uint32_t words[8], uint32_t which, uint32_t p) {
  return words[which * 4 + (p & 3u)] ^ ((p + 1u) * 0x27d4eb2fu) ^ ((p >> 2) * 0x165667b1u);
}

// One int8 entry. `index` is the row-major element index mod 2³² (Math.imul truncates the same way).
GP_HD int32_t entry(uint32_t key, uint32_t index) {
  uint32_t h = (index * 0x9e3779b1u) ^ key;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return static_cast<int32_t>(h & 0xffu) - 128;
}

// Element index of (row, col) in an n×n row-major matrix, mod 2³² (n ≤ 2¹⁶ so it is exact).
GP_HD uint32_t element_index(uint32_t row, uint32_t col, uint32_t n) {
  return row * n + col;
}

// ---- int8 products, exact integer accumulation -----------------------------------------------

// acc + a·b with int32 wrap-around, done in unsigned arithmetic so overflow is defined
// (|a·b| ≤ 2¹⁴ and n ≤ 2¹⁶ keep real sums inside int32 anyway).
GP_HD uint32_t mac(uint32_t acc, int32_t a, int32_t b) {
  return acc + static_cast<uint32_t>(a * b);
}

// C_p[i][j] straight from the definition (the host reference; the kernel tiles the same sum).
GP_HD int32_t product_element(uint32_t a_key, uint32_t b_key, uint32_t n, uint32_t i, uint32_t j) {
  uint32_t acc = 0;
  for (uint32_t k = 0; k < n; k++) acc = mac(acc, entry(a_key, element_index(i, k, n)), entry(b_key, element_index(k, j, n)));
  return static_cast<int32_t>(acc);
}

// ---- SHA-256 and the row digest --------------------------------------------------------------

struct Sha256 {
  uint32_t h[8];
  uint8_t block[64];
  uint32_t fill;
  uint64_t total;
};

GP_HD uint32_t sha_rotr(uint32_t x, int r) { return (x >> r) | (x << (32 - r)); }

GP_HD void sha256_init(Sha256& s) {
  const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
  for (int i = 0; i < 8; i++) s.h[i] = iv[i];
  s.fill = 0;
  s.total = 0;
}

GP_HD void sha256_compress(Sha256& s) {
  const uint32_t k[64] = {
      0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
      0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
      0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
      0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
      0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
      0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
      0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
      0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t(s.block[4 * i]) << 24) | (uint32_t(s.block[4 * i + 1]) << 16) | (uint32_t(s.block[4 * i + 2]) << 8) | uint32_t(s.block[4 * i + 3]);
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = sha_rotr(w[i - 15], 7) ^ sha_rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = sha_rotr(w[i - 2], 17) ^ sha_rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = s.h[0], b = s.h[1], c = s.h[2], d = s.h[3], e = s.h[4], f = s.h[5], g = s.h[6], h = s.h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (sha_rotr(e, 6) ^ sha_rotr(e, 11) ^ sha_rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
    uint32_t t2 = (sha_rotr(a, 2) ^ sha_rotr(a, 13) ^ sha_rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  s.h[0] += a; s.h[1] += b; s.h[2] += c; s.h[3] += d; s.h[4] += e; s.h[5] += f; s.h[6] += g; s.h[7] += h;
}

GP_HD void sha256_byte(Sha256& s, uint8_t byte) {
  s.block[s.fill++] = byte;
  s.total++;
  if (s.fill == 64) {
    sha256_compress(s);
    s.fill = 0;
  }
}

GP_HD void sha256_final(Sha256& s, uint8_t out[32]) {
  uint64_t bits = s.total * 8;
  sha256_byte(s, 0x80);
  while (s.fill != 56) sha256_byte(s, 0x00);
  for (int i = 7; i >= 0; i--) sha256_byte(s, static_cast<uint8_t>(bits >> (8 * i)));
  for (int i = 0; i < 8; i++) {
    out[4 * i] = static_cast<uint8_t>(s.h[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(s.h[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(s.h[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(s.h[i]);
  }
}

// One step of a row's chain: state ← SHA-256(state ‖ row as int32 little-endian).
GP_HD void chain_row(uint8_t state[32], const int32_t* row, uint32_t n) {
  Sha256 s;
  sha256_init(s);
  for (int i = 0; i < 32; i++) sha256_byte(s, state[i]);
  for (uint32_t j = 0; j < n; j++) {
    uint32_t v = static_cast<uint32_t>(row[j]);
    sha256_byte(s, static_cast<uint8_t>(v));
    sha256_byte(s, static_cast<uint8_t>(v >> 8));
    sha256_byte(s, static_cast<uint8_t>(v >> 16));
    sha256_byte(s, static_cast<uint8_t>(v >> 24));
  }
  sha256_final(s, state);
}

}  // namespace gridplane
