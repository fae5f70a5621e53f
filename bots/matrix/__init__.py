"""The system bot's Matrix side: the nio client, the sync loop and the outbox."""
