"""gunicorn settings for ``bench.memory``: the project's own (``gunicorn.conf.py``), plus a
greenlet in each worker that writes a tracemalloc snapshot whenever the file named by
``BENCH_SNAPSHOT`` appears (then removes it). Tracing starts once the worker is up (16 frames
deep): what the viewers allocate after that is what the benchmark compares. Only for the
benchmark."""

import gc
import os
import pickle
import runpy
from pathlib import Path

_project = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update({key: value for key, value in _project.items() if not key.startswith("__")})
_project_post_worker_init = _project["post_worker_init"]


def post_worker_init(worker):  # wraps the project's own
    import gevent
    import tracemalloc

    _project_post_worker_init(worker)
    tracemalloc.start(16)
    trigger = Path(os.environ["BENCH_SNAPSHOT"])

    def answer():
        while True:
            if trigger.exists():
                gc.collect()
                with trigger.with_suffix(".snap").open("wb") as file:
                    pickle.dump(tracemalloc.take_snapshot(), file)
                trigger.unlink()
            gevent.sleep(0.2)

    gevent.spawn(answer)
