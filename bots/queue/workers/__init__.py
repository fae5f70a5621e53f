"""The queue's reconcilers, one job each, every one a ``Reconciler`` on the shared wake loop:

- ``departures``: cases the visitor ended (or came back to) through the session API → the card
  and the counsellor are told;
- ``cards``: the card posted once, its event ID learned, its edits; the staff posts under it; an
  old card redacted once its replacement is up;
- ``access``: the claiming counsellor is moderator of the case room and invited, a previous one
  kicked; the case room in the staff Space while someone works on it;
- ``reminders``: a case waiting unclaimed past its due time → a reminder in the queue room;
- ``notices``: a new place told to waiting visitors (throttled) while the chat is open, and
  "we are closed now" when the opening hours end;
- ``erasure``: the visitor's account erased a while after a counsellor (or a timer) closed.
"""
