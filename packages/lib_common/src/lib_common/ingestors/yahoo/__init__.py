"""Yahoo Finance: the streamer's protobuf frames, normalised into quotes."""
