/* A program whose only interesting symbol is a static function: it appears in .symtab, never in
 * .dynsym, so once the binary is stripped only its separate debug file can name it. */
#include <stdio.h>

__attribute__((noinline)) static int DebuglinkMarkerFunction(int x) { return x * 3 + 1; }

int main(int argc, char** argv) {
  (void)argv;
  printf("%d\n", DebuglinkMarkerFunction(argc));
  return 0;
}
