"""The services file as last applied to supervisord, kept in the state dir.

`start`/`reload` copy the file there with where it came from; the watch and `status` read the
copy, so an edited-but-not-reloaded services file never disagrees with supervisord.conf.
"""

from __future__ import annotations

from pathlib import Path

from .errors import PmdaemonError
from .layout import StateDir
from .services import ServicesFile, load_services, parse_services
from .state import read_json, write_json
from .supervisor_conf import render


def apply(source: Path, state: StateDir) -> ServicesFile:
    """Validate `source`, then write the copy, its origin and supervisord.conf under `state`."""
    state.check_socket_path()
    services = load_services(source, state_dir=state.root)
    state.root.mkdir(parents=True, exist_ok=True)
    state.logs.mkdir(exist_ok=True)
    for spec in services.services:
        for log in spec.logs:
            log.file.parent.mkdir(parents=True, exist_ok=True)
    state.applied.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    write_json(state.applied_meta, {"source": str(services.source)})
    conf = render(services, state)
    state.conf.write_text(conf, encoding="utf-8")
    return services


def applied_source(state: StateDir) -> Path:
    source = read_json(state.applied_meta).get("source")
    if not isinstance(source, str):
        raise PmdaemonError(f"nothing applied in {state.root}: run `pmdaemon start SERVICES.json5` first")
    return Path(source)


def load_applied(state: StateDir) -> ServicesFile:
    source = applied_source(state)
    text = state.applied.read_text(encoding="utf-8")
    return parse_services(text, source=source, base_dir=source.parent, state_dir=state.root)
