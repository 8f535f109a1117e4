// CPU reference build of the verify-cuda solver: same CLI and output as verify.cu, same
// challenge.h arithmetic, no CUDA. test/agent/verification-cuda-source.test.ts compiles it with
// g++ and compares its answer to the TypeScript solver's, which is what proves the header the
// kernel uses computes the right thing.
//   g++ -O2 -std=c++17 -o verify-host verify-host.cpp
#include <cstdint>
#include <vector>

#include "challenge.h"
#include "solve-cli.h"

using namespace gridplane;

int main(int argc, char** argv) {
  const Challenge c = parse_cli(argc, argv);
  const uint32_t n = c.n;
  std::vector<uint8_t> states(size_t(n) * 32, 0);
  std::vector<int8_t> b(size_t(n) * n);
  std::vector<int8_t> a_row(n);
  std::vector<uint32_t> acc(n);
  std::vector<int32_t> row(n);
  for (uint32_t p = 0; p < c.products; p++) {
    const uint32_t b_key = matrix_key(c.words, 1, p);
    const uint32_t a_key = matrix_key(c.words, 0, p);
    for (uint32_t k = 0; k < n; k++)
      for (uint32_t j = 0; j < n; j++) b[size_t(k) * n + j] = static_cast<int8_t>(entry(b_key, element_index(k, j, n)));
    for (uint32_t i = 0; i < n; i++) {
      for (uint32_t k = 0; k < n; k++) a_row[k] = static_cast<int8_t>(entry(a_key, element_index(i, k, n)));
      // k outer, j inner: the same sum as product_element, in cache order.
      for (uint32_t j = 0; j < n; j++) acc[j] = 0;
      for (uint32_t k = 0; k < n; k++) {
        const int32_t a = a_row[k];
        if (a == 0) continue;
        const int8_t* bk = &b[size_t(k) * n];
        for (uint32_t j = 0; j < n; j++) acc[j] = mac(acc[j], a, bk[j]);
      }
      for (uint32_t j = 0; j < n; j++) row[j] = static_cast<int32_t>(acc[j]);
      chain_row(&states[size_t(i) * 32], row.data(), n);
    }
  }
  print_answer(states, n);
  return 0;
}
