// Blocked single-precision GEMM (Goto/BLIS structure): for each NC-column block and KC-deep slice,
// pack op(B) into NR-wide panels, for each MC-row block pack op(A) into MR-high panels, and run an
// MR×NR register-blocked micro-kernel over the tiles. Transposes are absorbed by the packing, so all
// four (transA, transB) combinations run at the same speed. The micro-kernel is chosen at run time:
// AVX-512 (8×32), AVX2+FMA (6×16) or portable C++ (4×16).
#include "sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "pool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define FLOWLENS_X86 1
#endif

namespace flowlens {
namespace {

constexpr int64_t KC = 256;   // depth of a packed slice (A panel 8×256 floats, B panel 256×32 floats = 32 KiB)
constexpr int64_t MC = 96;    // rows of a packed A block (multiple of every MR)
constexpr int64_t NC = 3072;  // columns of a packed B block (multiple of every NR)
const bool packAlways = std::getenv("FLOWLENS_NATIVE_PACKB") != nullptr;  // for measuring only

// Per-thread packing buffers (pool threads and each JS thread own theirs).
struct Buffers {
  float* a = nullptr;
  size_t na = 0;
  float* b = nullptr;
  size_t nb = 0;
  ~Buffers() {
    std::free(a);
    std::free(b);
  }
};
thread_local Buffers tls;

float* grow(float*& p, size_t& cap, size_t n) {
  if (n > cap) {
    std::free(p);
    size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    p = static_cast<float*>(std::aligned_alloc(64, bytes));
    cap = p ? n : 0;
  }
  return p;
}

// Pack rows [i0, i0+mc) × depth [k0, k0+kc) of op(A) into MR-high panels, zero-padded:
// panel p holds, for each k, the MR values op(A)[i0+p·MR+r, k0+k].
template <int MR>
void packA(const float* A, int64_t lda, bool trans, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* out) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - ir);
    if (!trans) {
      for (int64_t r = 0; r < mr; r++) {
        const float* src = A + (i0 + ir + r) * lda + k0;
        for (int64_t k = 0; k < kc; k++) out[k * MR + r] = src[k];
      }
      for (int64_t r = mr; r < MR; r++)
        for (int64_t k = 0; k < kc; k++) out[k * MR + r] = 0.f;
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const float* src = A + (k0 + k) * lda + i0 + ir;
        float* dst = out + k * MR;
        int64_t r = 0;
        for (; r < mr; r++) dst[r] = src[r];
        for (; r < MR; r++) dst[r] = 0.f;
      }
    }
    out += kc * MR;
  }
}

// Pack depth [k0, k0+kc) × columns [j0, j0+nc) of op(B) into NR-wide panels, zero-padded.
template <int NR>
void packB(const float* B, int64_t ldb, bool trans, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    if (!trans) {
      for (int64_t k = 0; k < kc; k++) {
        const float* src = B + (k0 + k) * ldb + j0 + jr;
        float* dst = out + k * NR;
        if (nr == NR) {
          std::memcpy(dst, src, NR * sizeof(float));
        } else {
          int64_t c = 0;
          for (; c < nr; c++) dst[c] = src[c];
          for (; c < NR; c++) dst[c] = 0.f;
        }
      }
    } else {
      for (int64_t c = 0; c < nr; c++) {
        const float* src = B + (j0 + jr + c) * ldb + k0;
        for (int64_t k = 0; k < kc; k++) out[k * NR + c] = src[k];
      }
      for (int64_t c = nr; c < NR; c++)
        for (int64_t k = 0; k < kc; k++) out[k * NR + c] = 0.f;
    }
    out += kc * NR;
  }
}

// Micro-kernels: C[MR×NR] (=|+=) Apanel · Bpanel over kc.
struct KernelGeneric {
  static constexpr int MR = 4, NR = 16;
  static void run(int64_t kc, const float* a, const float* b, int64_t ldbk, float* c, int64_t ldc, bool acc) {
    float t[MR][NR] = {};
    for (int64_t k = 0; k < kc; k++) {
      for (int r = 0; r < MR; r++) {
        const float ar = a[r];
        for (int j = 0; j < NR; j++) t[r][j] += ar * b[j];
      }
      a += MR;
      b += ldbk;
    }
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) c[r * ldc + j] = acc ? c[r * ldc + j] + t[r][j] : t[r][j];
  }
};

#ifdef FLOWLENS_X86
struct KernelAvx2 {
  static constexpr int MR = 6, NR = 16;
  __attribute__((target("avx2,fma"))) static void run(int64_t kc, const float* a, const float* b, int64_t ldbk, float* c, int64_t ldc, bool acc) {
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
      for (int r = 0; r < MR; r++) {
        const __m256 ar = _mm256_broadcast_ss(a + r);
        c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);
        c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);
      }
      a += MR;
      b += ldbk;
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      if (acc) {
        c0[r] = _mm256_add_ps(c0[r], _mm256_loadu_ps(cr));
        c1[r] = _mm256_add_ps(c1[r], _mm256_loadu_ps(cr + 8));
      }
      _mm256_storeu_ps(cr, c0[r]);
      _mm256_storeu_ps(cr + 8, c1[r]);
    }
  }
};

struct KernelAvx512 {
  static constexpr int MR = 8, NR = 32;
  __attribute__((target("avx512f,fma"))) static void run(int64_t kc, const float* a, const float* b, int64_t ldbk, float* c, int64_t ldc, bool acc) {
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
      for (int r = 0; r < MR; r++) {
        const __m512 ar = _mm512_set1_ps(a[r]);
        c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);
        c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
      }
      a += MR;
      b += ldbk;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      if (acc) {
        c0[r] = _mm512_add_ps(c0[r], _mm512_loadu_ps(cr));
        c1[r] = _mm512_add_ps(c1[r], _mm512_loadu_ps(cr + 16));
      }
      _mm512_storeu_ps(cr, c0[r]);
      _mm512_storeu_ps(cr + 16, c1[r]);
    }
  }
};
#endif

// One product on submatrices: C[M×N] = op(A)[M×K] · op(B)[K×N] (overwrites C).
template <class Kr>
bool gemmSerial(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, bool tA, const float* B, int64_t ldb, bool tB,
                float* C, int64_t ldc) {
  constexpr int MR = Kr::MR, NR = Kr::NR;
  if (M <= 0 || N <= 0) return true;
  if (K <= 0) {
    for (int64_t i = 0; i < M; i++) std::memset(C + i * ldc, 0, N * sizeof(float));
    return true;
  }
  const int64_t ncMax = std::min<int64_t>(NC, (N + NR - 1) / NR * NR);
  const int64_t kcMax = std::min<int64_t>(KC, K);
  const int64_t mcMax = std::min<int64_t>(MC, (M + MR - 1) / MR * MR);
  float* bufB = grow(tls.b, tls.nb, static_cast<size_t>(kcMax * ncMax));
  float* bufA = grow(tls.a, tls.na, static_cast<size_t>(kcMax * mcMax));
  if (!bufA || !bufB) return false;
  alignas(64) float tmp[MR * NR];
  // Row-major B (not transposed) is read in place: its NR-wide column strips are already contiguous per
  // k, so only the last, partial strip is packed (saves copying the whole weight matrix on every call).
  const bool direct = !tB && !packAlways;
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    const int64_t ncFull = direct ? nc / NR * NR : 0;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = pc > 0;
      if (ncFull < nc) packB<NR>(B, ldb, tB, pc, kc, jc + ncFull, nc - ncFull, bufB);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        packA<MR>(A, lda, tA, ic, mc, pc, kc, bufA);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min<int64_t>(NR, nc - jr);
          const bool inPlace = jr < ncFull;
          const float* bp = inPlace ? B + pc * ldb + jc + jr : bufB + ((jr - ncFull) / NR) * kc * NR;
          const int64_t ldbk = inPlace ? ldb : NR;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min<int64_t>(MR, mc - ir);
            const float* ap = bufA + (ir / MR) * kc * MR;
            float* cp = C + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              Kr::run(kc, ap, bp, ldbk, cp, ldc, acc);
            } else {
              Kr::run(kc, ap, bp, ldbk, tmp, NR, false);
              for (int64_t r = 0; r < mr; r++)
                for (int64_t j = 0; j < nr; j++) cp[r * ldc + j] = (acc ? cp[r * ldc + j] : 0.f) + tmp[r * NR + j];
            }
          }
        }
      }
    }
  }
  return true;
}

void epilogue(float* C, int64_t M, int64_t N, int64_t ldc, const float* bias, int activation) {
  if (!bias && activation == 0) return;
  for (int64_t i = 0; i < M; i++) {
    float* row = C + i * ldc;
    if (bias)
      for (int64_t j = 0; j < N; j++) row[j] += bias[j];
    if (activation == 1)
      for (int64_t j = 0; j < N; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
  }
}

template <class Kr>
bool gemmAll(const GemmProblem& p, ThreadPool* pool, int T) {
  const int64_t lda = p.transA ? p.M : p.K;
  const int64_t ldb = p.transB ? p.K : p.N;
  const int64_t ldc = p.N;
  // Rows [m0,m1) × columns [n0,n1) of batch entry b.
  auto one = [&](int64_t b, int64_t m0, int64_t m1, int64_t n0, int64_t n1) -> bool {
    const float* A = p.A + b * p.strideA;
    const float* B = p.B + b * p.strideB;
    float* C = p.C + b * p.strideC;
    const float* As = p.transA ? A + m0 : A + m0 * lda;
    const float* Bs = p.transB ? B + n0 * ldb : B + n0;
    float* Cs = C + m0 * ldc + n0;
    if (!gemmSerial<Kr>(m1 - m0, n1 - n0, p.K, As, lda, p.transA, Bs, ldb, p.transB, Cs, ldc)) return false;
    epilogue(Cs, m1 - m0, n1 - n0, ldc, p.bias ? p.bias + n0 : nullptr, p.activation);
    return true;
  };
  bool ok = true;
  if (T <= 1 || !pool) {
    for (int64_t b = 0; b < p.batch && ok; b++) ok = one(b, 0, p.M, 0, p.N);
    return ok;
  }
  if (p.batch % T == 0 || p.batch >= 4 * T) {
    // Whole batch entries per thread.
    bool oks[64];
    pool->run(T, [&](int t) {
      bool r = true;
      for (int64_t b = p.batch * t / T; b < p.batch * (t + 1) / T && r; b++) r = one(b, 0, p.M, 0, p.N);
      oks[t] = r;
    });
    for (int t = 0; t < T; t++) ok = ok && oks[t];
    return ok;
  }
  // Split each entry along its larger output dimension (the other operand is packed by every thread).
  const bool splitN = p.N >= p.M;
  const int64_t unit = splitN ? Kr::NR : Kr::MR;
  const int64_t units = ((splitN ? p.N : p.M) + unit - 1) / unit;
  const int Tn = static_cast<int>(std::min<int64_t>(T, units));
  for (int64_t b = 0; b < p.batch && ok; b++) {
    if (Tn <= 1) {
      ok = one(b, 0, p.M, 0, p.N);
      continue;
    }
    bool oks[64];
    pool->run(Tn, [&](int t) {
      const int64_t lim = splitN ? p.N : p.M;
      const int64_t s = std::min(lim, units * t / Tn * unit), e = std::min(lim, units * (t + 1) / Tn * unit);
      oks[t] = splitN ? one(b, 0, p.M, s, e) : one(b, s, e, 0, p.N);
    });
    for (int t = 0; t < Tn; t++) ok = ok && oks[t];
  }
  return ok;
}

enum class Isa { Generic, Avx2, Avx512 };

Isa detect() {
#ifdef FLOWLENS_X86
  __builtin_cpu_init();
  if (std::getenv("FLOWLENS_NATIVE_ISA")) {
    const char* v = std::getenv("FLOWLENS_NATIVE_ISA");
    if (!std::strcmp(v, "generic")) return Isa::Generic;
    if (!std::strcmp(v, "avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Generic;
}

const Isa isa = detect();

}  // namespace

const char* gemmKernelName() {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "generic";
  }
}

bool gemm(const GemmProblem& p, ThreadPool* pool, int threads) {
  if (p.batch <= 0 || p.M <= 0 || p.N <= 0) return true;
  const double flops = 2.0 * p.batch * p.M * p.N * static_cast<double>(p.K);
  int T = std::max(1, std::min(threads, 64));
  if (flops < 4e6) T = 1;  // below ~4 MFLOP the hand-off costs more than it saves
#ifdef FLOWLENS_X86
  if (isa == Isa::Avx512) return gemmAll<KernelAvx512>(p, pool, T);
  if (isa == Isa::Avx2) return gemmAll<KernelAvx2>(p, pool, T);
#endif
  return gemmAll<KernelGeneric>(p, pool, T);
}

}  // namespace flowlens
