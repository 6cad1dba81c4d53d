"""CNN's Fear & Greed index, polled and published as the pseudo-symbol `FEAR-GREED`.

fear_greed  the body of `/index/fearandgreed/graphdata` as a `FearGreed`, and its Quote
schedule    `next_poll_delay`: when to ask again, from what the last polls saw
poller      `FearGreedPoller`: polls while someone is subscribed, emits only what is new
"""

from lib_common.ingestors.cnn.fear_greed import (
    FEAR_GREED_SYMBOL,
    INDICATORS,
    FearGreed,
    Indicator,
    parse_fear_greed,
    to_quote,
)
from lib_common.ingestors.cnn.poller import FearGreedPoller
from lib_common.ingestors.cnn.schedule import PollSchedule, Seen, next_poll_delay

__all__ = [
    "FEAR_GREED_SYMBOL",
    "INDICATORS",
    "FearGreed",
    "FearGreedPoller",
    "Indicator",
    "PollSchedule",
    "Seen",
    "next_poll_delay",
    "parse_fear_greed",
    "to_quote",
]
