"""The queue: cases waiting for a counsellor, the claim, the card in the staff queue room."""
