#!/usr/bin/env python3
"""Draws the traffic benchmark's rows (bench/traffic.py --json FILE) as an SVG: for each thread
count, the target's p99 and p99.9 latency under each method, as bars on a log scale, with the
undisturbed window first. Plain SVG written by hand, so that no plotting library is needed.

  bench/plot_traffic.py ROWS.json OUT.svg [--title TEXT] [--every "2 seconds"]
"""
import argparse
import json
import math

COLOURS = {"undisturbed": "#7f7f7f", "ephemera restricted": "#2b8cbe",
           "ephemera ptrace": "#08589e", "eu-stack": "#e6550d", "gdb": "#a63603",
           "kubectl debug eu-stack": "#e6550d", "kubectl debug empty": "#fdae6b"}
WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 50, 60


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows")
    parser.add_argument("out")
    parser.add_argument("--title", default="Target latency while it is being captured")
    parser.add_argument("--every", default="second", help="how often a capture started, in words")
    args = parser.parse_args()
    rows = [r for r in json.load(open(args.rows)) if r.get("p99_ms")]
    if not rows:
        raise SystemExit("plot_traffic: no rows with latencies in " + args.rows)
    levels = sorted({r["threads"] for r in rows})
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    values = [v for r in rows for v in (r["p99_ms"], r.get("p999_ms")) if v]
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(ms):
        return TOP + plot_h * (1 - (math.log10(ms) - math.log10(low)) /
                               (math.log10(high) - math.log10(low)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="24" font-size="15">{escape(args.title)}</text>']
    decade = low
    while decade <= high:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(decade):.1f}" '
                   f'y2="{y(decade):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(decade) + 4:.1f}" text-anchor="end">'
                   f'{decade:g} ms</text>')
        decade *= 10
    group_w = plot_w / len(levels)
    bar_w = group_w * 0.8 / len(methods)
    for gi, level in enumerate(levels):
        x0 = LEFT + gi * group_w + group_w * 0.1
        out.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{TOP + plot_h + 20}" '
                   f'text-anchor="middle">{level} threads</text>')
        for mi, method in enumerate(methods):
            row = next((r for r in rows if r["threads"] == level and r["method"] == method), None)
            if row is None:
                continue
            x = x0 + mi * bar_w
            colour = COLOURS.get(method, "#555")
            top = y(row["p99_ms"])
            out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w - 2:.1f}" '
                       f'height="{TOP + plot_h - top:.1f}" fill="{colour}">'
                       f'<title>{escape(method)}: p99 {row["p99_ms"]:.2f} ms</title></rect>')
            if row.get("p999_ms"):
                tick = y(row["p999_ms"])
                out.append(f'<line x1="{x:.1f}" x2="{x + bar_w - 2:.1f}" y1="{tick:.1f}" '
                           f'y2="{tick:.1f}" stroke="black" stroke-width="2">'
                           f'<title>{escape(method)}: p99.9 {row["p999_ms"]:.2f} ms</title></line>')
    legend_x = LEFT + plot_w + 20
    for mi, method in enumerate(methods):
        ly = TOP + 10 + mi * 20
        out.append(f'<rect x="{legend_x}" y="{ly - 10}" width="12" height="12" '
                   f'fill="{COLOURS.get(method, "#555")}"/>')
        out.append(f'<text x="{legend_x + 18}" y="{ly}">{escape(method)}</text>')
    ly = TOP + 10 + len(methods) * 20 + 10
    out.append(f'<text x="{legend_x}" y="{ly}">bar: p99; black line: p99.9</text>')
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 12}" fill="#555">log scale; each window the same '
               f'request rate; a capture every {args.every}</text>')
    out.append("</svg>")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
