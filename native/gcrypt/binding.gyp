{
  "targets": [
    {
      "target_name": "kloset_gcrypt",
      "sources": ["object_cipher.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "libraries": ["-lgcrypt"]
    }
  ]
}
