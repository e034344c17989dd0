#!/usr/bin/env python3
"""Copies a harness's report into README.md, between its markers, so that the Performance section
shows what the harness measured last, never figures typed by hand.

Usage: python3 bench/readme_results.py NAME REPORT.md
Replaces what lies between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in README.md with the
report, its headings moved three levels down (its title becomes a ####).
"""
import pathlib
import re
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    name, report = sys.argv[1], pathlib.Path(sys.argv[2])
    readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if begin not in text or end not in text:
        sys.exit(f"README.md has no {begin} ... {end} block (fix: add both markers where the results belong)")
    body = re.sub(r"(?m)^(#+) ", lambda m: "#" * min(6, len(m.group(1)) + 3) + " ",
                  report.read_text(encoding="utf-8").strip())
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{begin}\n{body}\n{end}{tail}", encoding="utf-8")
    print(f"README.md: {name} results replaced from {report}", file=sys.stderr)


if __name__ == "__main__":
    main()
