// verify-cuda: answers a matmul-int8-v1 hardware challenge on the GPU. The CLI and output are
// those of solve-cli.h (what edge-agent/src/verification/docker-solver.ts runs); the arithmetic
// is challenge.h, shared with the CPU reference build verify-host.cpp.
//
// Per product p the GPU computes C_p = A_p·B_p in tiles of TILE×TILE, generating the int8
// entries from the seed as it loads each tile (no n² matrices in device memory) and accumulating
// exactly in 32-bit integers. Rows come back to the host in chunks of at most CHUNK_BYTES of
// int32, where each row's SHA-256 chain advances (a few MB per product at the default n 1024;
// the products are the 2n³ part of the work).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "challenge.h"
#include "solve-cli.h"

using namespace gridplane;

namespace {

constexpr uint32_t TILE = 16;
constexpr size_t CHUNK_BYTES = size_t(256) << 20;

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    std::fprintf(stderr, "verify-cuda: %s: %s\n", what, cudaGetErrorString(err));
    std::exit(1);
  }
}

// out[(i − row0)·n + j] = C_p[i][j] for rows [row0, row0 + rows). One thread per element of the
// chunk; each block walks k in tiles with A and B tiles staged in shared memory.
__global__ void product_rows(uint32_t a_key, uint32_t b_key, uint32_t n, uint32_t row0, uint32_t rows, int32_t* out) {
  __shared__ int32_t as[TILE][TILE];
  __shared__ int32_t bs[TILE][TILE];
  const uint32_t tx = threadIdx.x, ty = threadIdx.y;
  const uint32_t local = blockIdx.y * TILE + ty;
  const uint32_t i = row0 + local;
  const uint32_t j = blockIdx.x * TILE + tx;
  const bool row_in = local < rows;
  uint32_t acc = 0;
  for (uint32_t k0 = 0; k0 < n; k0 += TILE) {
    const uint32_t ka = k0 + tx;  // A tile: row i, column k0 + tx
    const uint32_t kb = k0 + ty;  // B tile: row k0 + ty, column j
    as[ty][tx] = row_in && ka < n ? entry(a_key, element_index(i, ka, n)) : 0;
    bs[ty][tx] = kb < n && j < n ? entry(b_key, element_index(kb, j, n)) : 0;
    __syncthreads();
#pragma unroll
    for (uint32_t k = 0; k < TILE; k++) acc = mac(acc, as[ty][k], bs[k][tx]);
    __syncthreads();
  }
  if (row_in && j < n) out[size_t(local) * n + j] = static_cast<int32_t>(acc);
}

}  // namespace

int main(int argc, char** argv) {
  const Challenge c = parse_cli(argc, argv);
  const uint32_t n = c.n;
  int devices = 0;
  check(cudaGetDeviceCount(&devices), "no CUDA device (is the container run with --gpus all?)");
  if (devices < 1) {
    std::fprintf(stderr, "verify-cuda: no CUDA device\n");
    return 1;
  }
  check(cudaSetDevice(0), "cudaSetDevice");

  const uint32_t chunk_rows = static_cast<uint32_t>(std::max<size_t>(1, std::min<size_t>(n, CHUNK_BYTES / (size_t(n) * 4))));
  int32_t* device_rows = nullptr;
  check(cudaMalloc(&device_rows, size_t(chunk_rows) * n * 4), "cudaMalloc");
  int32_t* host_rows = nullptr;
  check(cudaMallocHost(&host_rows, size_t(chunk_rows) * n * 4), "cudaMallocHost");

  std::vector<uint8_t> states(size_t(n) * 32, 0);
  const dim3 block(TILE, TILE);
  for (uint32_t p = 0; p < c.products; p++) {
    const uint32_t a_key = matrix_key(c.words, 0, p);
    const uint32_t b_key = matrix_key(c.words, 1, p);
    for (uint32_t row0 = 0; row0 < n; row0 += chunk_rows) {
      const uint32_t rows = std::min(chunk_rows, n - row0);
      const dim3 grid((n + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
      product_rows<<<grid, block>>>(a_key, b_key, n, row0, rows, device_rows);
      check(cudaGetLastError(), "kernel launch");
      check(cudaMemcpy(host_rows, device_rows, size_t(rows) * n * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
      for (uint32_t r = 0; r < rows; r++) chain_row(&states[size_t(row0 + r) * 32], host_rows + size_t(r) * n, n);
    }
  }
  cudaFreeHost(host_rows);
  cudaFree(device_rows);
  print_answer(states, n);
  return 0;
}
