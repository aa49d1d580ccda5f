"""Two languages (issue "The dashboard in Simplified Chinese"): what a second language costs.

``.venv/bin/python -m bench.language [--changes 300]`` feeds the same simulated host samples to
the pages of one process, as its tailer does (``LiveView.apply``, then ``Page.publish``), in
two set-ups measured in the same run:

- **baseline**: 200 viewers of the host, all in English: one page;
- **mixed**: 100 in English and 100 in Chinese: one page per language.

For each it prints the region renders per change (``RenderedRegions.render`` calls that drew a
region), the CPU time per change (``time.process_time``), and the bytes sent per change to all
viewers (every viewer of a page gets the same encoded message, so: viewers x message bytes).
Target: renders per change in the mixed set-up twice the baseline's (one render per language
per change, never per viewer); CPU per change at most about twice; bytes per change within
what the Chinese words weigh in UTF-8.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from app import create_app
from app.sources.simhost import SimulatedHost
from app.store import Item
from app.view import parts

HOST = "bench-host"


def run(changes: int, viewers: dict[str, int]) -> dict[str, float]:
    """Feed ``changes`` samples to the pages of ``viewers`` (language code -> viewers);
    return renders, CPU seconds and bytes, each per change."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"STORE_URL": f"sqlite:///{tmp}/s.sqlite3", "SAMPLER": False,
                          "HOST_NAME": HOST, "TESTING": True})
        live = app.extensions["dashboard"]
        pages = {code: live.page(HOST, None, code) for code in viewers}
        renders = [0]
        real = parts.RenderedRegions.render

        def counted(self, name, draw, parts_=None):
            renders[0] += 1
            return real(self, name, draw, parts_)

        parts.RenderedRegions.render = counted
        sent = [0]
        for code, page in pages.items():  # every viewer of a page gets the same message
            page.hub.publish = (lambda real_publish, n: lambda message: (
                sent.__setitem__(0, sent[0] + n * len(message)), real_publish(message)))(
                page.hub.publish, viewers[code])
        host = SimulatedHost(HOST, seed=1)
        try:
            start_cpu = time.process_time()
            for n in range(changes):
                item = Item(10_000 + n, "metrics", time.time(), {**host.sample(), "host": HOST})
                for page in pages.values():
                    page.publish(page.view.apply([item]))
            cpu = time.process_time() - start_cpu
        finally:
            parts.RenderedRegions.render = real
            live.stop()
            live.store.close()
    return {"renders": renders[0] / changes, "cpu_ms": cpu / changes * 1000,
            "bytes": sent[0] / changes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()
    base = run(args.changes, {"en": 200})
    mixed = run(args.changes, {"en": 100, "zh_Hans": 100})
    print(f"language: {args.changes} host samples, 200 viewers of one host")
    for name, got in (("200 English (baseline)", base), ("100 English + 100 Chinese", mixed)):
        print(f"  {name:27} renders/change {got['renders']:5.1f}   CPU/change "
              f"{got['cpu_ms']:6.2f} ms   bytes/change {got['bytes']:9,.0f}")
    print(f"  ratio mixed/baseline: renders {mixed['renders'] / base['renders']:.2f}, CPU "
          f"{mixed['cpu_ms'] / base['cpu_ms']:.2f}, bytes {mixed['bytes'] / base['bytes']:.2f}")


if __name__ == "__main__":
    main()
