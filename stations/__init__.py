"""Warm-heart stations, nursing rooms and shuttle stops: registry, store, locator."""
