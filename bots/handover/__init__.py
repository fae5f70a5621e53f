"""Warm handover: from the anonymous chat to a partner, only with the visitor's consent."""
