"""The HTTP service: JSON API, OGC API Features, vector tiles and the web app, over any ``Store``."""
