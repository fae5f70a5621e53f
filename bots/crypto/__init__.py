"""The bots' end-to-end encryption additions to matrix-nio: cross-signing and device trust."""
