# Public names of webmap (imported lazily by __init__.py).

from .app import create_app as create_app
