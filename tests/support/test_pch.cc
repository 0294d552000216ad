// Compiles tests/support/test_pch.h once for every reshard_test() binary.
