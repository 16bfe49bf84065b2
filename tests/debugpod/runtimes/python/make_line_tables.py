"""Writes line_tables_3.<minor>.txt: real code objects' line tables with the line CPython itself
gives each instruction, for line_table_test.cc to cross-check the decoders against.

Run with each interpreter (python3.9 … python3.13) from this directory. One line per code
object: "<format> <co_firstlineno> <table hex> <offset>:<line> ..." where format is lnotab
(3.9), linetable310 (3.10) or locations (3.11+), offsets are bytes into the bytecode and line 0
means "no line". Lines come from co_lines() (3.10+) or dis.findlinestarts (3.9).
"""

import dis
import queue
import sys
import threading
import types

SOURCE = '''
def jumps(items):
    total = 0
    for item in items:
        if item:
            total += item
''' + "\n" * 300 + '''
        else:
            total -= 1
    while total > 10:
        total = (total
                 - 1)
    return [x for x in range(total)]
'''


def code_objects():
    namespace = {}
    exec(compile(SOURCE, "jumps.py", "exec"), namespace)
    roots = [namespace["jumps"].__code__]
    for module in (threading, queue):
        for value in vars(module).values():
            if isinstance(value, types.FunctionType):
                roots.append(value.__code__)
            elif isinstance(value, type):
                roots.extend(v.__code__ for v in vars(value).values()
                             if isinstance(v, types.FunctionType))
    seen = []
    while roots:
        code = roots.pop()
        seen.append(code)
        roots.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return seen[:40]


def lines(code):
    """(byte offset, line) for every instruction, as CPython computes the line."""
    size = len(code.co_code)
    if sys.version_info >= (3, 10):
        result = []
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                result.append((offset, line or 0))
        return result
    starts = list(dis.findlinestarts(code))
    result = []
    for offset in range(0, size, 2):
        line = code.co_firstlineno
        for start, start_line in starts:
            if start <= offset:
                line = start_line
        result.append((offset, line))
    return result


def main():
    minor = sys.version_info[1]
    fmt = "lnotab" if minor == 9 else "linetable310" if minor == 10 else "locations"
    with open(f"line_tables_3.{minor}.txt", "w") as out:
        for code in code_objects():
            table = code.co_lnotab if minor == 9 else code.co_linetable
            pairs = " ".join(f"{o}:{l}" for o, l in lines(code))
            out.write(f"{fmt} {code.co_firstlineno} {table.hex() or '-'} {pairs}\n")


if __name__ == "__main__":
    main()
