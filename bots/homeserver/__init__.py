"""Synapse over HTTP: the admin API and the few client calls made outside the nio client."""
