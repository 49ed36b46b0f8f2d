"""The transforms, in the order the engine applies them.

Each module converts one concern; see its docstring. Every transform reads the project's plan
(codemod/project.py) and writes code; none reads another's output, so the order only decides
which edits a statement sees first.
"""

from transforms.app_blueprint import AppBlueprintTransform
from transforms.entrypoint import EntrypointTransform
from transforms.error_handlers import ErrorHandlersTransform
from transforms.request_state import RequestStateTransform
from transforms.routes import RoutesTransform
from transforms.wsgi_harness import WsgiHarnessTransform

ORDER = (
    AppBlueprintTransform,
    RoutesTransform,
    RequestStateTransform,
    ErrorHandlersTransform,
    EntrypointTransform,
    WsgiHarnessTransform,
)
BY_NAME = {transform.NAME: transform for transform in ORDER}
