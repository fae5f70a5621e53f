"""Anonymous visitor sessions: the HTTP edge (api), the rules (domain), validation and abuse control."""
