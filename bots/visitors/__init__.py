"""What every concern knows of a visitor, below the concerns: their anonymous account (made,
whose token, erased), their case room, closing their case, the campaigns and outreach invites
a session may carry, and the visitor API's HTTP edge and rate limits."""
