"""Exception tree of rsdev_misc. The monitors raise nothing of their own; what reaches a caller
comes from lib_common:

RsdevError (lib_common.errors)
└── ConfigError        a monitor's config is wrong: `where: message` (file:line:col and JSON path,
    │                  the RSDEV__ variable or the flag); the monitor exits 2 with
    │                  `PROG: config error: ...`, one line per problem
    └── ConfigErrors   every problem of one config at once (`problems`)
AudioError (lib_common.audio)   sound neither played nor written: audio_test exits 1; a
                                monitor's alert logs it and goes on

A failed probe raises nothing: psycopg.Error, BusError, OSError and TimeoutError become an
unhealthy CheckResult (exit 1 with --once, 503 on /health).
"""

from __future__ import annotations

from lib_common.audio import AudioError
from lib_common.errors import ConfigError, ConfigErrors, RsdevError

__all__ = ["AudioError", "ConfigError", "ConfigErrors", "RsdevError"]
