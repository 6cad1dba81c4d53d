"""Moved to servers.kit.serving; this name stays while durable, server_sql, server_log,
server_speak and server_dummy import it."""

from servers.kit import config as _config
from servers.kit import serving as _serving

LOG_LEVELS = _serving.LOG_LEVELS
add_common_flags = _serving.add_common_flags
configure_logging = _serving.configure_logging
load_or_exit = _serving.load_or_exit
overridden = _serving.overridden
read_listen = _config.read_listen
read_log_level = _serving.read_log_level
serve = _serving.serve
ws_url = _serving.ws_url
