"""server_speak: spoken alerts from rules on quotes, from monitors, and from POST /speak."""
