#!/usr/bin/env python3
"""Draws benchmark rows (JSON lists of objects, e.g. bench/traffic.py --json FILE) as an SVG of grouped
bars on a log scale: one group per value of --group (thread count, concurrency), one bar per
method, the bar's height from --bar and, when given, a black tick at --tick. Plain SVG written by
hand, so that no plotting library is needed. The defaults draw the traffic benchmark.

  bench/plot_bars.py ROWS.json [MORE.json ...] OUT.svg [--title TEXT] [--note TEXT]
      [--group threads] [--group-label "{} threads"] [--bar p99_ms] [--bar-name p99]
      [--tick p999_ms] [--tick-name p99.9] [--unit ms]
"""
import argparse
import json
import math

COLOURS = {"undisturbed": "#7f7f7f", "ephemera restricted": "#2b8cbe",
           "ephemera ptrace": "#08589e", "eu-stack": "#e6550d", "gdb": "#a63603",
           "kubectl debug eu-stack": "#e6550d", "kubectl debug empty": "#fdae6b", "gdb -batch": "#a63603",
           "CaptureStacks": "#2b8cbe", "ephemera-snapshot": "#08589e",
           "ephemera": "#2b8cbe", "kubectl debug": "#e6550d"}
WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 50, 60


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="row files, then the SVG to write")
    parser.add_argument("--title", default="Target latency while it is being captured")
    parser.add_argument("--every", default="second",
                        help="traffic: how often a capture started, in words (for the default note)")
    parser.add_argument("--note", help="the line under the plot")
    parser.add_argument("--group", default="threads")
    parser.add_argument("--group-label", default="{} threads")
    parser.add_argument("--bar", default="p99_ms")
    parser.add_argument("--bar-name", default="p99")
    parser.add_argument("--tick", default="p999_ms", help="'' for none")
    parser.add_argument("--tick-name", default="p99.9")
    parser.add_argument("--unit", default="ms")
    args = parser.parse_args()
    if len(args.files) < 2:
        parser.error("give at least one row file and the SVG to write")
    *inputs, out_path = args.files
    rows = [r for path in inputs for r in json.load(open(path))
            if isinstance(r.get(args.bar), (int, float))]
    if not rows:
        raise SystemExit(f"plot_bars: no rows with {args.bar} in {', '.join(inputs)}")
    levels = sorted({r[args.group] for r in rows})
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    values = [v for r in rows for v in (r[args.bar], r.get(args.tick) if args.tick else None)
              if isinstance(v, (int, float)) and v > 0]
    if not values:
        raise SystemExit(f"plot_bars: every {args.bar} is 0")
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    if high <= low:
        high = low * 10
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value):  # 0 (or below the axis) sits on the axis
        value = max(value, low)
        return TOP + plot_h * (1 - (math.log10(value) - math.log10(low)) /
                               (math.log10(high) - math.log10(low)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="24" font-size="15">{escape(args.title)}</text>']
    decade = low
    while decade <= high * 1.0001:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(decade):.1f}" '
                   f'y2="{y(decade):.1f}" stroke="#ddd"/>')
        label = f"{decade:g}" if 1e-3 <= decade <= 1e4 else f"1e{round(math.log10(decade))}"
        out.append(f'<text x="{LEFT - 6}" y="{y(decade) + 4:.1f}" text-anchor="end">'
                   f'{label} {escape(args.unit)}</text>')
        decade *= 10
    group_w = plot_w / len(levels)
    bar_w = group_w * 0.8 / len(methods)
    for gi, level in enumerate(levels):
        x0 = LEFT + gi * group_w + group_w * 0.1
        out.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{TOP + plot_h + 20}" '
                   f'text-anchor="middle">{escape(args.group_label.format(level))}</text>')
        for mi, method in enumerate(methods):
            row = next((r for r in rows if r[args.group] == level and r["method"] == method), None)
            if row is None:
                continue
            x = x0 + mi * bar_w
            colour = COLOURS.get(method, "#555")
            top = y(row[args.bar])
            out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w - 2:.1f}" '
                       f'height="{max(TOP + plot_h - top, 1):.1f}" fill="{colour}">'
                       f'<title>{escape(method)}: {args.bar_name} {row[args.bar]:.3g} '
                       f'{escape(args.unit)}</title></rect>')
            tick = row.get(args.tick) if args.tick else None
            if isinstance(tick, (int, float)):
                ty = y(tick)
                out.append(f'<line x1="{x:.1f}" x2="{x + bar_w - 2:.1f}" y1="{ty:.1f}" '
                           f'y2="{ty:.1f}" stroke="black" stroke-width="2">'
                           f'<title>{escape(method)}: {args.tick_name} {tick:.3g} '
                           f'{escape(args.unit)}</title></line>')
    legend_x = LEFT + plot_w + 20
    for mi, method in enumerate(methods):
        ly = TOP + 10 + mi * 20
        out.append(f'<rect x="{legend_x}" y="{ly - 10}" width="12" height="12" '
                   f'fill="{COLOURS.get(method, "#555")}"/>')
        out.append(f'<text x="{legend_x + 18}" y="{ly}">{escape(method)}</text>')
    ly = TOP + 10 + len(methods) * 20 + 10
    legend = f"bar: {args.bar_name}" + (f"; black line: {args.tick_name}" if args.tick else "")
    out.append(f'<text x="{legend_x}" y="{ly}">{escape(legend)}</text>')
    note = args.note or ("each window the same request rate; a capture every " + args.every)
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 12}" fill="#555">log scale; {escape(note)}</text>')
    out.append("</svg>")
    with open(out_path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
