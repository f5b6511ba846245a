# Public names of webmap (imported lazily by __init__.py).

from ._errors import WarmheartError as WarmheartError
from .app import create_app as create_app
