# Public names of routing (imported lazily by __init__.py).

from ._errors import AreaBuildError as AreaBuildError
from ._errors import AreaWarning as AreaWarning
from ._errors import CoordinateError as CoordinateError
from ._errors import DisconnectedGraphError as DisconnectedGraphError
from ._errors import OfflineError as OfflineError
from ._errors import SettingsError as SettingsError
from ._errors import WarmheartError as WarmheartError
from ._errors import WarmheartWarning as WarmheartWarning
from .area import Area as Area
from .area import Snapped as Snapped
from .build import build_area as build_area
from .build import load_area as load_area
from .cache import warmheart_home as warmheart_home
from .edges import EdgePoints as EdgePoints
from .edges import EdgeTable as EdgeTable
from .edges import insert_points as insert_points
from .network import GraphArrays as GraphArrays
from .network import graph_arrays as graph_arrays
from .problems import RowProblem as RowProblem
from .settings import AreaSettings as AreaSettings
