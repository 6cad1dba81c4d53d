"""A realistic JSON5 document for the benchmark: nested service configuration with comments."""

from __future__ import annotations

import random

_WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def _service(rng: random.Random, index: int) -> str:
    name = f"{rng.choice(_WORDS)}-{index}"
    env = ",\n".join(
        f'            {rng.choice(_WORDS).upper()}_{n}: "{rng.choice(_WORDS)}\\t{n}\\u00e9"'
        for n in range(rng.randint(2, 6))
    )
    ports = ", ".join(str(rng.randint(1024, 65535)) for _ in range(rng.randint(1, 4)))
    tags = ", ".join(f"'{rng.choice(_WORDS)}'" for _ in range(rng.randint(1, 5)))
    return f"""    // service {index}: {name}
    {{
        name: "{name}",
        command: "python -m http.server {rng.randint(8000, 9000)} --bind 127.0.0.1",
        "working-dir": '/srv/{name}',  // quoted key, single-quoted value
        autorestart: {rng.choice(["true", "false"])},
        priority: {rng.randint(1, 999)},
        mask: 0x{rng.randint(0, 0xFFFF):04X},
        weight: .{rng.randint(1, 99)},
        ratio: {rng.random():.6f},
        offset: +{rng.randint(0, 100)},
        limit: {rng.choice(["Infinity", "1e6", "-2.5E-3", "null"])},
        ports: [{ports},],
        tags: [{tags}],
        /* environment passed to the child process;
           values may contain escapes */
        env: {{
{env},
        }},
        health: {{ url: "http://127.0.0.1/health", interval_s: {rng.randint(1, 60)}, timeout_s: 2.5 }},
    }},
"""


def document(target_bytes: int = 2_000_000, seed: int = 5) -> str:
    """A JSON5 document of about `target_bytes` UTF-8 bytes."""
    rng = random.Random(seed)
    parts = ["// rsdev benchmark document\n{\n  version: 1,\n  services: [\n"]
    size = len(parts[0])
    index = 0
    while size < target_bytes:
        chunk = _service(rng, index)
        parts.append(chunk)
        size += len(chunk.encode())
        index += 1
    parts.append("  ],\n}\n")
    return "".join(parts)
