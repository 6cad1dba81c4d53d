"""The gateway kit: what every rsdev server is made of, in a package that is no server.

- `config`: the config pieces servers share (listen, TLS, memory, client limits, tenants).
- `process`: `FanoutServer`, the process base of a fan-out gateway (clock, fan-out, admission,
  start/stop, uptime, the shared figures); restream's Gateway, redis2ws's Bridge and
  server_yahoo's Proxy add only where their frames come from.
- `app`: one `create_app` with /health, /status, /metrics and the lifespan, for every server.
- `session`: one WebSocket client's loop, from auth and admission to detach.
- `egress`: uvicorn's WebSocket protocol opened up for the dispatcher's direct writes.
- `serving`: running an app under uvicorn, and the command-line pieces every server has.

Servers import from here, from lib_common and from themselves; never from one another.
"""
