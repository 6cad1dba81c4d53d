"""rsdev_misc: monitoring tools that run beside the servers.

- monitor_net, monitor_postgres, monitor_redis: periodic probes (reachability, PostgreSQL, Redis)
  with a /health endpoint, outage detection and spoken alerts; one skeleton in `command` and
  `monitor`, each monitor supplying only its probe and settings.
- outage: the up/failing/down/recovering detector the monitors share.
- audio_test: check that speech and sound output work on this machine.
"""

__version__ = "0.1.0"
