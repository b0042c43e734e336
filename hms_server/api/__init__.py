"""HTTP routers; every route declares the permission it needs."""
