"""What werkzeug answered an HTTP error with, for an app that no longer has werkzeug.

A converted app keeps its wire contract: where the Flask app answered ``abort(404)`` with
werkzeug's error page, or its own handler read the error's ``description`` and ``name``, the
converted app answers with the same words. These are werkzeug 3's values (its default
``description`` of each error class, and the status names where they are not ``HTTPStatus``'s
phrase), kept as data because they are part of what the original app sent.
"""

from __future__ import annotations

import html
from http import HTTPStatus

__all__ = ["description", "error_page", "status_name"]

# werkzeug's status names that are not HTTPStatus's phrase (or codes HTTPStatus lacks); 413, 416
# and 422 too, whose phrases Python 3.13 changed to RFC 9110's while werkzeug kept the old ones
_NAMES = {
    203: 'Non Authoritative Information',
    207: 'Multi Status',
    306: 'Switch Proxy',
    413: 'Request Entity Too Large',
    414: 'Request URI Too Long',
    416: 'Requested Range Not Satisfiable',
    418: "I'm a teapot",
    422: 'Unprocessable Entity',
    449: 'Retry With',
    511: 'Network Authentication Failed',
}
# werkzeug's default description of the error it raises for each status
_DESCRIPTIONS = {
    400: (
        'The browser (or proxy) sent a request that this server could not understand.'
    ),
    401: (
        'The server could not verify that you are authorized to access the URL requested. You '
        "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
        'understand how to supply the credentials required.'
    ),
    403: (
        "You don't have the permission to access the requested resource. It is either read-"
        'protected or not readable by the server.'
    ),
    404: (
        'The requested URL was not found on the server. If you entered the URL manually please '
        'check your spelling and try again.'
    ),
    405: (
        'The method is not allowed for the requested URL.'
    ),
    406: (
        'The resource identified by the request is only capable of generating response entities '
        'which have content characteristics not acceptable according to the accept headers sent '
        'in the request.'
    ),
    408: (
        "The server closed the network connection because the browser didn't finish the request "
        'within the specified time.'
    ),
    409: (
        'A conflict happened while processing the request. The resource might have been modified '
        'while the request was being processed.'
    ),
    410: (
        'The requested URL is no longer available on this server and there is no forwarding '
        'address. If you followed a link from a foreign page, please contact the author of this '
        'page.'
    ),
    411: (
        'A request with this method requires a valid <code>Content-Length</code> header.'
    ),
    412: (
        'The precondition on the request for the URL failed positive evaluation.'
    ),
    413: (
        'The data value transmitted exceeds the capacity limit.'
    ),
    414: (
        'The length of the requested URL exceeds the capacity limit for this server. The request '
        'cannot be processed.'
    ),
    415: (
        'The server does not support the media type transmitted in the request.'
    ),
    416: (
        'The server cannot provide the requested range.'
    ),
    417: (
        'The server could not meet the requirements of the Expect header'
    ),
    418: (
        'This server is a teapot, not a coffee machine'
    ),
    421: (
        'The server is not able to produce a response.'
    ),
    422: (
        'The request was well-formed but was unable to be followed due to semantic errors.'
    ),
    423: (
        'The resource that is being accessed is locked.'
    ),
    424: (
        'The method could not be performed on the resource because the requested action depended '
        'on another action and that action failed.'
    ),
    428: (
        'This request is required to be conditional; try using "If-Match" or "If-Unmodified-'
        'Since".'
    ),
    429: (
        'This user has exceeded an allotted request count. Try again later.'
    ),
    431: (
        'One or more header fields exceeds the maximum size.'
    ),
    451: (
        'Unavailable for legal reasons.'
    ),
    500: (
        'The server encountered an internal error and was unable to complete your request. Either'
        ' the server is overloaded or there is an error in the application.'
    ),
    501: (
        'The server does not support the action requested by the browser.'
    ),
    502: (
        'The proxy server received an invalid response from an upstream server.'
    ),
    503: (
        'The server is temporarily unable to service your request due to maintenance downtime or '
        'capacity problems. Please try again later.'
    ),
    504: (
        'The connection to an upstream server timed out.'
    ),
    505: (
        'The server does not support the HTTP protocol version used in the request.'
    ),
}


def status_name(status_code: int) -> str:
    """werkzeug's name of a status: what ``error.name`` of Flask's error for it was."""
    if status_code in _NAMES:
        return _NAMES[status_code]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Unknown Error"


def description(status_code: int) -> str | None:
    """werkzeug's default description of the error for ``status_code`` (None: it has none)."""
    return _DESCRIPTIONS.get(status_code)


def error_page(status_code: int, text: str | None) -> str:
    """The HTML page werkzeug answered an error with, ``text`` its description (escaped, line
    breaks as ``<br>``, as werkzeug wrote it)."""
    name = status_name(status_code)
    body = f"<p>{escaped(text).replace(chr(10), '<br>')}</p>\n" if text else ""
    return f"<!doctype html>\n<html lang=en>\n<title>{status_code} {escaped(name)}</title>\n<h1>{escaped(name)}</h1>\n{body}"


def escaped(text: str) -> str:
    """HTML-escaped as MarkupSafe does it (werkzeug's escaping): quotes as numeric references."""
    return html.escape(text, quote=False).replace('"', "&#34;").replace("'", "&#39;")
