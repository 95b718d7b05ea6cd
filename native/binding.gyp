{
  "targets": [
    {
      "target_name": "pul_native",
      "sources": ["src/addon.c", "src/gemm.c", "src/conv.c", "src/parallel.c", "src/channels.c", "src/kmeans.c", "src/hamming.c", "src/knn.c", "src/batch-norm.c"],
      "cflags": ["-O3", "-std=gnu11", "-Wall"],
      "libraries": ["-lpthread", "-lm"]
    }
  ]
}
