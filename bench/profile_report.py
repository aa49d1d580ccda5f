"""Sum the stacks that ``bench/profile_conf.py`` wrote and print where the workers' time went.

    .venv/bin/python -m bench.profile_report DIR [--top 40] [--under NAME]

Samples are taken per CPU time spent, so all of them are work (in the gevent hub's loop too).
Prints the functions with the most samples *inclusive* (on the stack) and *self* (the innermost
frame), each as a percent of the samples. ``--under NAME`` keeps only stacks through a frame whose name
holds NAME (``post_samples``: the samples endpoint alone).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def load(folder: Path) -> Counter:
    """``{stack: samples}`` summed over every worker's file in ``folder``."""
    counts: Counter = Counter()
    for path in folder.glob("*.txt"):
        for line in path.read_text().splitlines():
            n, _, stack = line.partition(" ")
            counts[stack] += int(n)
    return counts


def idle(stack: str) -> bool:
    """Whether a sample caught no Python frame."""
    return stack == "(none)"


def summary(counts: Counter, top: int, under: str | None = None) -> str:
    """The report (module docstring) of ``counts``."""
    total = sum(counts.values())
    busy = Counter({s: n for s, n in counts.items() if not idle(s)})
    if under:
        busy = Counter({s: n for s, n in busy.items() if under in s})
    n_busy = sum(busy.values()) or 1
    inclusive: Counter = Counter()
    own: Counter = Counter()
    for stack, n in busy.items():
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    lines = [f"samples {total}, busy {sum(busy.values())} ({100 * sum(busy.values()) / max(total, 1):.0f} %)"
             + (f" under {under!r}" if under else "")]
    lines.append("inclusive:")
    lines += [f"  {100 * n / n_busy:5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("self:")
    lines += [f"  {100 * n / n_busy:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def main(argv=None) -> None:
    """Print the summary of the folder the command line names."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under")
    args = parser.parse_args(argv)
    print(summary(load(args.folder), args.top, args.under))


if __name__ == "__main__":
    main()
