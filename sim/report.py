"""Publish a benchmark's output into docs/results/: read it on standard input, pass it through to
standard output as it comes (long runs show their progress), and write docs/results/NAME.md with
the command that produced it, the date, the commit and the machine.

    python -m sim.benchmark | python -m sim.report speed "Simulation speed" "python -m sim.benchmark"
"""
import argparse
import datetime
import subprocess
import sys
from pathlib import Path

from sim.benchmark import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def commit():
    """The commit the working tree is at, marked when the tree has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="docs/results/NAME.md")
    ap.add_argument("title")
    ap.add_argument("command", help="the command whose output this is")
    args = ap.parse_args(argv)
    lines = []
    for line in sys.stdin:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line.rstrip("\n"))
    if not lines:
        print(f"sim.report: no output to publish for {args.name}", file=sys.stderr)
        return 1
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.name}.md"
    out.write_text("\n".join([f"# {args.title}", "",
                              f"Written by `{args.command}` on {when}, commit {commit()}, on {machine()}.", "",
                              "```", *lines, "```", ""]))
    print(f"sim.report: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
