// flowlens native matrix multiply: a blocked, multi-threaded single-precision GEMM (BLIS-style
// packing + register-blocked micro-kernels for AVX-512 and AVX2/FMA, a portable fallback otherwise).
#pragma once
#include <cstddef>
#include <cstdint>

namespace flowlens {

// One (batched) product C[b] = op(A[b]) · op(B[b]) (+ bias over columns, then activation).
// Row-major. op(A) is M×K: A is stored M×K (lda = K) or, with transA, K×M (lda = M).
// op(B) is K×N: B is stored K×N (ldb = N) or, with transB, N×K (ldb = K). C is M×N (ldc = N).
// strideA/strideB/strideC: elements between consecutive batch entries (0 broadcasts).
struct GemmProblem {
  int64_t batch, M, N, K;
  const float* A;
  int64_t strideA;
  bool transA;
  const float* B;
  int64_t strideB;
  bool transB;
  float* C;
  int64_t strideC;
  const float* bias;  // length N, or nullptr
  int activation;     // 0 = none, 1 = relu
};

class ThreadPool;

// Run the problem on `pool` with at most `threads` threads (the caller's thread is one of them).
// Returns false when a packing buffer could not be allocated (C is then incomplete).
bool gemm(const GemmProblem& p, ThreadPool* pool, int threads);

// Which micro-kernel this CPU gets: "avx512", "avx2" or "generic".
const char* gemmKernelName();

}  // namespace flowlens
