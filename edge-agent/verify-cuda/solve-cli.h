// The command-line contract shared by verify.cu (GPU) and verify-host.cpp (CPU reference), exactly
// what edge-agent/src/verification/docker-solver.ts runs and parses:
//   <binary> solve --kind matmul-int8-v1 --seed <64 lower-case hex> --n <n> --products <P>
// prints one line {"kind":"matmul-int8-v1","digests":"<base64 of 8·n bytes>"} and exits 0.
// Bad arguments: a message on stderr, exit 2. Host-only (never compiled for the device).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "challenge.h"

namespace gridplane {

struct Challenge {
  uint32_t words[8];
  uint32_t n;
  uint32_t products;
};

inline bool parse_count(const char* text, uint32_t max, uint32_t& out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < 1 || v > max) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

[[noreturn]] inline void usage(const char* program, const char* why) {
  std::fprintf(stderr, "%s: %s\nusage: %s solve --kind %s --seed <64 hex> --n <1..%u> --products <1..%u>\n", program, why, program, kChallengeKind,
               kMaxN, kMaxProducts);
  std::exit(2);
}

// argv may start with the `solve` subcommand (the image's ENTRYPOINT is the binary itself).
inline Challenge parse_cli(int argc, char** argv) {
  const char* program = argc > 0 ? argv[0] : "verify-cuda";
  if (argc < 2 || std::strcmp(argv[1], "solve") != 0) usage(program, "expected the `solve` subcommand");
  const char* kind = nullptr;
  const char* seed = nullptr;
  const char* n = nullptr;
  const char* products = nullptr;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) usage(program, "every option needs a value");
    const char* flag = argv[i];
    const char* value = argv[i + 1];
    if (std::strcmp(flag, "--kind") == 0) kind = value;
    else if (std::strcmp(flag, "--seed") == 0) seed = value;
    else if (std::strcmp(flag, "--n") == 0) n = value;
    else if (std::strcmp(flag, "--products") == 0) products = value;
    else usage(program, (std::string("unknown option ") + flag).c_str());
  }
  if (kind == nullptr || std::strcmp(kind, kChallengeKind) != 0) usage(program, "--kind must be matmul-int8-v1");
  Challenge c{};
  if (seed == nullptr || !seed_words(seed, c.words)) usage(program, "--seed must be 64 lower-case hex characters");
  if (!parse_count(n, kMaxN, c.n)) usage(program, "--n must be an integer in 1..65536");
  if (!parse_count(products, kMaxProducts, c.products)) usage(program, "--products must be an integer in 1..4096");
  return c;
}

inline std::string base64(const uint8_t* bytes, size_t len) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = uint32_t(bytes[i]) << 16;
    if (i + 1 < len) v |= uint32_t(bytes[i + 1]) << 8;
    if (i + 2 < len) v |= uint32_t(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < len ? alphabet[v & 63] : '=';
  }
  return out;
}

// states: n chained 32-byte hashes; the answer is the first 8 bytes of each.
inline void print_answer(const std::vector<uint8_t>& states, uint32_t n) {
  std::vector<uint8_t> digests(size_t(n) * kDigestBytes);
  for (uint32_t i = 0; i < n; i++) std::memcpy(&digests[size_t(i) * kDigestBytes], &states[size_t(i) * 32], kDigestBytes);
  std::printf("{\"kind\":\"%s\",\"digests\":\"%s\"}\n", kChallengeKind, base64(digests.data(), digests.size()).c_str());
  std::fflush(stdout);
}

}  // namespace gridplane
