"""`make compose-up` / `compose-down`: the production compose.yaml, run on this machine.

Where there is no Docker engine and no image registry, podman runs compose.yaml (through
podman-compose) with compose.local.yaml laid over it, which swaps only the upstream images that
cannot be pulled (FIELD-NOTES.md, "Containers"). The harness:

- ``host``: sets the machine up once (podman, runc, vfs, the Debian base image), downloads the
  locked Python packages on the host (a build cannot reach PyPI here) and builds the images;
- ``files``: the local stack's folder ``.keerpunt-compose/``: its keerpunt.yaml (the shipped
  deploy/keerpunt.yaml with local names and Caddy's local CA), its secret files, its backup
  folder and backup identity;
- ``stack``: starts the services in the order of their ``depends_on``, polling the health
  commands itself (podman has no timers for them here), makes the demo staff and writes
  ``.keerpunt-compose.json`` (DESIGN.md, "Running it"); and removes it all again.
"""
