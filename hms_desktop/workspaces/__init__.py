"""One package per workspace a role may open from the navigation rail."""
