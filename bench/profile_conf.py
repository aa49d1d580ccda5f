"""gunicorn settings for a profiled benchmark run (``bench.fleetload --profile DIR``): the
project's own (``gunicorn.conf.py``), plus, in each worker, a sampling profiler driven by CPU
time: ``setitimer(ITIMER_PROF)`` raises SIGPROF every :data:`INTERVAL` seconds of the process's
CPU, and the handler counts the stack it interrupted (no ``sys.setprofile``: the worker runs at
full speed between samples, and a worker waiting for events takes no samples). Every few
seconds the counts go to ``$BENCH_PROFILE/<pid>.txt``, one ``count frame;frame;...`` line per
stack, outermost first (the "collapsed" format of flame graphs; ``bench.profile_report`` sums
them). Only for benchmarks.
"""

import os
import runpy
from collections import Counter
from pathlib import Path

_project = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update({key: value for key, value in _project.items() if not key.startswith("__")})
_project_post_worker_init = _project["post_worker_init"]

#: CPU seconds between two samples.
INTERVAL = 0.005
#: Seconds between two writes of the counts.
WRITE_EVERY = 5.0


def _stack(frame) -> str:
    names = []
    while frame is not None:
        code = frame.f_code
        names.append(f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})")
        frame = frame.f_back
    return ";".join(reversed(names))


def post_worker_init(worker):  # wraps the project's own
    import gc
    import signal
    import time

    from gevent import monkey

    _project_post_worker_init(worker)
    out = Path(os.environ["BENCH_PROFILE"]) / f"{os.getpid()}.txt"
    gc_out = out.with_suffix(".gc")
    counts: Counter = Counter()
    written = [time.monotonic()]

    # The garbage collector's CPU: a sample taken during a collection is counted when the
    # collection ends, against whatever frame allocated, so it is measured apart.
    collecting = {"since": 0.0, "seconds": Counter(), "runs": Counter()}

    def collection(phase, info):
        if phase == "start":
            collecting["since"] = time.process_time()
        else:
            collecting["seconds"][info["generation"]] += time.process_time() - collecting["since"]
            collecting["runs"][info["generation"]] += 1

    gc.callbacks.append(collection)

    def sample(_signum, frame):
        counts[_stack(frame) if frame is not None else "(none)"] += 1
        if time.monotonic() - written[0] >= WRITE_EVERY:
            written[0] = time.monotonic()
            # Copied in one C call first: a SIGPROF during the write runs this handler again,
            # which adds to the counts (iterating them then failed the interrupted request).
            counted = list(counts.items())
            out.write_text("".join(f"{n} {stack}\n" for stack, n in counted))
            gc_out.write_text(f"{time.process_time():.3f} {dict(collecting['seconds'])} "
                              f"{dict(collecting['runs'])} {len(gc.get_objects())}\n")

    monkey.get_original("signal", "signal")(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
