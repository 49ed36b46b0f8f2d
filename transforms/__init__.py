"""The transforms, in the order the engine applies them.

Each module converts one concern; see its docstring. The order matters only where one
transform reads what another writes: ``unconverted`` runs last, flagging what the others left.
"""

from transforms.app_blueprint import AppBlueprintTransform
from transforms.auth import AuthTransform
from transforms.cli import CliTransform
from transforms.cors import CorsTransform
from transforms.entrypoint import EntrypointTransform
from transforms.errors import ErrorsTransform
from transforms.files_templates import FilesTemplatesTransform
from transforms.flask_sqlalchemy import FlaskSqlalchemyTransform
from transforms.json_bodies import JsonBodiesTransform
from transforms.jwt_auth import JwtAuthTransform
from transforms.request_context import RequestContextTransform
from transforms.request_params import RequestParamsTransform
from transforms.responses import ResponsesTransform
from transforms.routes import RoutesTransform
from transforms.streaming import StreamingTransform
from transforms.test_client import TestClientTransform
from transforms.unconverted import UnconvertedTransform

ORDER = (
    AppBlueprintTransform,
    RoutesTransform,
    RequestParamsTransform,
    JsonBodiesTransform,
    ResponsesTransform,
    ErrorsTransform,
    StreamingTransform,
    RequestContextTransform,
    AuthTransform,
    JwtAuthTransform,
    CorsTransform,
    FilesTemplatesTransform,
    CliTransform,
    EntrypointTransform,
    TestClientTransform,
    FlaskSqlalchemyTransform,
    UnconvertedTransform,
)
BY_NAME = {transform.NAME: transform for transform in ORDER}
