{
  "targets": [
    {
      "target_name": "flowlens_native",
      "sources": ["src/addon.cc", "src/sgemm.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno"],
      "cflags!": ["-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
