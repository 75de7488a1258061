{
  "targets": [
    {
      "target_name": "kloset_codec",
      "sources": ["addon.c", "object_cipher.c", "lz4_frame.c", "byte_counts.c", "item_stat.c", "malloc_tuning.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "libraries": ["-lgcrypt", "-llz4"]
    }
  ]
}
