"""The sync protocol shared by server and desktop: mutation registry, envelopes, scopes, rows."""
