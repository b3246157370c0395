{
  "targets": [
    {
      "target_name": "dralab_onednn",
      "sources": ["onednn-kernels.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-fopenmp", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
