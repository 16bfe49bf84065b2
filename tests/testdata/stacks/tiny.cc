// Source of the tiny ELF fixtures for the stack-capture unit tests (see make_fixtures.sh): a few
// functions with known names, C++-mangled and not, and no C library.
namespace tiny {

[[gnu::noinline]] int Multiply(int a, int b) {
  asm volatile("" ::: "memory");
  return a * b + 1;
}

[[gnu::noinline]] int Accumulate(int n) {
  volatile int values[16];
  for (int i = 0; i < 16; ++i) values[i] = Multiply(i, n);
  int sum = 0;
  for (int i = 0; i < 16; ++i) sum += values[i];
  return sum;
}

}  // namespace tiny

// C names on purpose: the symbolizer test looks for an unmangled symbol and the entry point.
extern "C" [[gnu::noinline]] int plain_c_function(int x) {  // NOLINT(readability-identifier-naming)
  return tiny::Accumulate(x) + 2;
}

extern "C" [[noreturn]] void _start() {  // NOLINT(readability-identifier-naming)
  plain_c_function(3);
  for (;;) asm volatile("" ::: "memory");
}
