"""Every helper of the test suite (and of bench/), in one place.

- ``plugin``: every shared fixture and the collection rules (layers, markers, PostgreSQL);
- ``config``, ``synapse``: test configs and a real Synapse in a child process;
- ``matrix_clients``: registered users with E2EE nio clients;
- ``bots``: the bots in-process, as the ``keerpunt`` CLI child (SIGKILL tests) or as a timed
  child (benchmarks);
- ``waiting``: ``wait_until``;
- ``visitor``, ``counts``: the session API and a visitor's nio client; what exists in Synapse;
- ``staff``, ``triage``, ``handover``: counsellors and partners, a visitor through triage,
  the steps of a warm handover;
- ``browser``, ``widget``: Debian's Chromium and the widget's stack, the visitor's steps in it;
- ``core``, ``database``: the bot assembled over a fake Matrix, every row of its database;
- ``partners``, ``routing``: a partner directory and request paths for the unit tests.
"""
