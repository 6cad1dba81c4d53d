"""pmdaemon: the process manager that keeps rsdev up, on top of supervisord.

`pmdaemon --state-dir DIR start SERVICES.json5 | status | restart NAME | stop`: a services file
(`services`) is validated (`services`, errors with file:line:col), turned into a supervisord
configuration (`supervisor_conf`), run by the state dir's own supervisord (`control`, `rpc`) and
watched by an event listener (`watch`, `health`) whose decisions are plain code (`policy`) and
whose state is a JSON file in the state dir (`state`, `applied`).
"""

__version__ = "0.1.0"
