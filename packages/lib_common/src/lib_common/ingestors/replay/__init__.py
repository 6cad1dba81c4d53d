"""Replay: server_log's day files (or any NDJSON of quote frames) served again as a live feed.

records (one line → a quote to re-stamp), sources (which files, bounded reading), pacing (when
each quote is due), feed (ReplayFeed, the task around them). docs/replay.md.
"""

from lib_common.ingestors.replay.feed import ReplayFeed
from lib_common.ingestors.replay.sources import day_files

__all__ = ["ReplayFeed", "day_files"]
