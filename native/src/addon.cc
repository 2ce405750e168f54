// N-API binding of the flowlens GEMM. Context-aware (NAPI_MODULE_INIT): each Node environment (the
// main thread and every worker_threads Worker) gets its own thread pool and thread count.
//
// gemm(heap, aOff, bOff, cOff, biasOff, batch, M, N, K, transA, transB, strideA, strideB, activation)
//   heap: an ArrayBuffer (the wasm memory); *Off: byte offsets of float32 data in it (biasOff < 0: none);
//   strides in elements between batch entries (0 broadcasts). C is written at cOff, batch × M × N.
// setThreads(n), threads(), kernel() → "avx512" | "avx2" | "generic".
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <thread>

#include "pool.h"
#include "sgemm.h"

namespace {

struct Instance {
  flowlens::ThreadPool pool;
  int threads = 1;
};

Instance* instance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Instance*>(data);
}

napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, "FLOWLENS_NATIVE", msg.c_str());
  return nullptr;
}

bool getInt(napi_env env, napi_value v, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d) || d != std::floor(d)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 14) return throwError(env, "gemm expects 14 arguments");
  void* heap = nullptr;
  size_t bytes = 0;
  bool isAb = false;
  napi_is_arraybuffer(env, argv[0], &isAb);
  if (!isAb || napi_get_arraybuffer_info(env, argv[0], &heap, &bytes) != napi_ok) return throwError(env, "gemm: heap must be an ArrayBuffer");
  int64_t v[13];
  for (int i = 0; i < 13; i++)
    if (!getInt(env, argv[i + 1], &v[i])) return throwError(env, "gemm: argument " + std::to_string(i + 1) + " must be an integer");
  const int64_t aOff = v[0], bOff = v[1], cOff = v[2], biasOff = v[3], batch = v[4], M = v[5], N = v[6], K = v[7];
  const bool tA = v[8] != 0, tB = v[9] != 0;
  const int64_t sA = v[10], sB = v[11], act = v[12];
  if (batch < 0 || M < 0 || N < 0 || K < 0 || sA < 0 || sB < 0) return throwError(env, "gemm: negative size or stride");
  if (act != 0 && act != 1) return throwError(env, "gemm: activation must be 0 (none) or 1 (relu)");
  const int64_t size = static_cast<int64_t>(bytes);
  auto inside = [&](int64_t off, int64_t stride, int64_t count) {
    if (count == 0) return true;
    if (off < 0 || off % 4 != 0) return false;
    const int64_t last = (batch > 0 ? (batch - 1) * stride : 0) + count;
    return last >= 0 && off + last * 4 <= size;
  };
  if (!inside(aOff, sA, M * K) || !inside(bOff, sB, K * N) || !inside(cOff, M * N, M * N) ||
      (biasOff >= 0 && !inside(biasOff, 0, N)))
    return throwError(env, "gemm: an operand lies outside the heap");
  char* base = static_cast<char*>(heap);
  flowlens::GemmProblem p{batch,
                          M,
                          N,
                          K,
                          reinterpret_cast<const float*>(base + aOff),
                          sA,
                          tA,
                          reinterpret_cast<const float*>(base + bOff),
                          sB,
                          tB,
                          reinterpret_cast<float*>(base + cOff),
                          M * N,
                          biasOff >= 0 ? reinterpret_cast<const float*>(base + biasOff) : nullptr,
                          static_cast<int>(act)};
  Instance* inst = instance(env);
  if (!flowlens::gemm(p, &inst->pool, inst->threads)) return throwError(env, "gemm: out of memory for packing buffers");
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t n;
  if (argc != 1 || !getInt(env, argv[0], &n) || n < 1 || n > 64) return throwError(env, "setThreads: n must be an integer in 1..64");
  instance(env)->threads = static_cast<int>(n);
  return nullptr;
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_int32(env, instance(env)->threads, &r);
  return r;
}

napi_value Kernel(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_string_utf8(env, flowlens::gemmKernelName(), NAPI_AUTO_LENGTH, &r);
  return r;
}

void finalize(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

}  // namespace

NAPI_MODULE_INIT() {
  napi_set_instance_data(env, new Instance(), finalize, nullptr);
  napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernel", nullptr, Kernel, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
