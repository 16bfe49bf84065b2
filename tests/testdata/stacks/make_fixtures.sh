#!/usr/bin/env bash
# Rebuilds the tiny ELF fixtures from tiny.cc and writes, next to each, the symbols the tests expect
# (nm -S: address, size, type, mangled name of our functions). Run from anywhere; needs g++ and
# binutils. The fixtures are checked in so unit tests do not depend on the host toolchain.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck disable=SC2054  # -Wl,--build-id=none is one flag
flags=(-O2 -nostdlib -fno-exceptions -fno-rtti -Wl,--build-id=none)

echo "building tiny_pie.elf (PIE, .eh_frame + .eh_frame_hdr)"
g++ "${flags[@]}" -fPIE -pie -o tiny_pie.elf tiny.cc

echo "building tiny_debug_frame.elf (static, zlib-compressed .debug_frame only)"
g++ "${flags[@]}" -static -g -fno-asynchronous-unwind-tables -fno-unwind-tables -o tiny_debug_frame.elf tiny.cc
objcopy --remove-section=.debug_info --remove-section=.debug_abbrev --remove-section=.debug_line \
  --remove-section=.debug_str --remove-section=.debug_aranges --remove-section=.debug_line_str \
  --remove-section=.debug_rnglists --remove-section=.debug_loclists --remove-section=.comment \
  --compress-debug-sections=zlib tiny_debug_frame.elf

for elf in tiny_pie.elf tiny_debug_frame.elf; do
  echo "writing ${elf%.elf}.symbols"
  nm -S --defined-only "$elf" | grep -E ' [Tt] ' | grep -E 'Multiply|Accumulate|plain_c_function| _start$' \
    > "${elf%.elf}.symbols"
done
