"""The manager map: GeoJSON views (and, next, the web page)."""
