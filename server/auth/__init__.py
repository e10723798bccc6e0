"""Authentication: JWT access tokens, rotating refresh tokens, device sessions."""
