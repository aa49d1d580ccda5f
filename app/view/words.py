"""Words that reach the templates as data and are translated where they are written
(``{{ alert.state|word }}``, :meth:`app.view.language.Language.word`): marked here with
:func:`~app.view.language.N_` so that ``pybabel extract`` puts them in the catalog. ``tests/view/test_language.py`` checks that each
set below still matches where its words come from (a new level or state added elsewhere and
not here would show in English).
"""

from __future__ import annotations

from .language import N_

#: Levels of cards, hosts, events and alerts (``app.domain.levels``, ``app.domain.fleet``).
LEVELS = (N_("ok"), N_("info"), N_("warning"), N_("error"), N_("critical"), N_("stale"))
#: Alert states, notification delivery states (``app.domain.outbox``).
ALERT_STATES = (N_("firing"), N_("resolved"), N_("sent"), N_("retrying"), N_("failed"))
#: Task states (``app.domain.schemas.TaskState``).
TASK_STATES = (N_("pending"), N_("running"), N_("succeeded"), N_("failed"))
#: Approval states (``app.domain.approval_schemas.ApprovalState``).
APPROVAL_STATES = (N_("pending"), N_("approved"), N_("denied"), N_("expired"), N_("withdrawn"))
#: Roles (``app.domain.accounts``) and where an account comes from.
ROLES = (N_("viewer"), N_("operator"), N_("admin"))
SOURCES = (N_("password"), N_("oidc"), N_("header"))
#: The connection badge's states (``templates/_badge.html``).
BADGE = (N_("LIVE"), N_("CONNECTING"), N_("POLLING"), N_("SIGNED OUT"))
#: CPU time modes (``psutil.cpu_times_percent``) and process states (``psutil.Process.status``).
CPU_MODES = (N_("user"), N_("system"), N_("iowait"), N_("steal"))
PROCESS_STATES = (N_("running"), N_("sleeping"), N_("disk-sleep"), N_("stopped"),
                  N_("tracing-stop"), N_("zombie"), N_("dead"), N_("wake-kill"), N_("waking"),
                  N_("idle"), N_("locked"), N_("waiting"), N_("parked"))
#: Container states and health (the Docker Engine API's words).
CONTAINER_STATES = (N_("created"), N_("running"), N_("restarting"), N_("paused"), N_("exited"),
                    N_("removing"), N_("dead"), N_("healthy"), N_("unhealthy"), N_("starting"),
                    N_("none"))
#: Custom metric types (``app.domain.custom``).
CUSTOM_TYPES = (N_("gauge"), N_("counter"))
#: The labels of ``app.sources.sample.METRICS`` (the compare page's metrics): that layer is
#: below this one and cannot mark them itself.
METRIC_LABELS = (N_("CPU"), N_("Logical CPUs"), N_("Memory"), N_("Memory used"),
                 N_("Memory total"), N_("Disk"), N_("Disk used"), N_("Disk total"),
                 N_("Received"), N_("Sent"), N_("Load 1 min"), N_("Load 5 min"),
                 N_("Load 15 min"), N_("Uptime"), N_("Temperature"), N_("Swap"), N_("Swap used"),
                 N_("Swap total"))
