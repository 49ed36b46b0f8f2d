"""The transforms, in the order the engine applies them.

Each module converts one concern; see its docstring. Every transform reads the project's plan
(codemod/project.py) and writes code; none reads another's output, so the order only decides
which edits a statement sees first.
"""

from transforms.aborts import AbortsTransform
from transforms.app_blueprint import AppBlueprintTransform
from transforms.app_logger import AppLoggerTransform
from transforms.app_settings import SettingsTransform
from transforms.async_routes import AsyncRoutesTransform
from transforms.entrypoint import EntrypointTransform
from transforms.json_bodies import JsonBodiesTransform
from transforms.jwt_auth import JwtAuthTransform
from transforms.jwt_hooks import JwtHooksTransform
from transforms.made_responses import MadeResponsesTransform
from transforms.helper_bodies import HelperBodiesTransform
from transforms.passwords import PasswordsTransform
from transforms.request_params import RequestParamsTransform
from transforms.error_handlers import ErrorHandlersTransform
from transforms.flask_sqlalchemy import FlaskSqlalchemyTransform
from transforms.flask_sqlalchemy_awaits import FlaskSqlalchemyAwaitsTransform
from transforms.flask_sqlalchemy_async import FlaskSqlalchemyAsyncTransform
from transforms.flask_login import FlaskLoginTransform
from transforms.flask_session import FlaskSessionTransform
from transforms.http_auth import HttpAuthTransform
from transforms.http_client import HttpClientTransform
from transforms.redirects import RedirectsTransform
from transforms.request_state import RequestStateTransform
from transforms.response_models import ResponseModelsTransform
from transforms.response_objects import ResponseObjectsTransform
from transforms.responses import ResponsesTransform
from transforms.routes import RoutesTransform
from transforms.send_files import SendFilesTransform
from transforms.slash_twins import SlashTwinsTransform
from transforms.sqlite_client import SqliteClientTransform
from transforms.streams import StreamsTransform
from transforms.templates import TemplatesTransform
from transforms.test_doubles import TestDoublesTransform
from transforms.url_for import UrlForTransform
from transforms.wsgi_harness import WsgiHarnessTransform

ORDER = (
    AppBlueprintTransform,
    RoutesTransform,
    RequestParamsTransform,
    JsonBodiesTransform,
    HelperBodiesTransform,
    RequestStateTransform,
    FlaskLoginTransform,
    FlaskSessionTransform,
    HttpAuthTransform,
    JwtAuthTransform,
    JwtHooksTransform,
    SettingsTransform,
    HttpClientTransform,
    SqliteClientTransform,
    ResponsesTransform,
    ResponseModelsTransform,
    StreamsTransform,
    ResponseObjectsTransform,
    MadeResponsesTransform,
    AbortsTransform,
    UrlForTransform,
    RedirectsTransform,
    SendFilesTransform,
    TemplatesTransform,
    ErrorHandlersTransform,
    AppLoggerTransform,
    PasswordsTransform,
    # after every transform that rewrites calls and attributes: it wraps what they left in awaits
    AsyncRoutesTransform,
    FlaskSqlalchemyAsyncTransform,
    # after flask_sqlalchemy_async: the views it made async keep their AsyncSession
    FlaskSqlalchemyTransform,
    # after flask_sqlalchemy: the sync forms it wrote in async views are awaited
    FlaskSqlalchemyAwaitsTransform,
    # after http_client and async_routes: a test's swap must fit what they made of its target
    TestDoublesTransform,
    # after every transform that adds options to a route decorator: the twin copies them
    SlashTwinsTransform,
    EntrypointTransform,
    WsgiHarnessTransform,
)
BY_NAME = {transform.NAME: transform for transform in ORDER}
