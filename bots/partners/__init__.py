"""The partner directory (organisations a counsellor may hand a chat over to), read and checked
from the config: shared by the handover concern, the statistics (partner kinds) and ``keerpunt
staff`` (partner accounts)."""
