"""A Flask-SQLAlchemy view goes to the general async plan (codemod/async_plan.py), which follows
its guard decorator (made a dependency) and the project functions it calls: async where the guard
and the helpers have nothing that blocks, sync with the blocking call named where they do. On a
project that keeps Flask-SQLAlchemy and on one that leaves for plain SQLAlchemy alike."""

from pathlib import Path

import pytest

from codemod.project import gather
from codemod.testing import convert_one
from transforms import ORDER
from transforms.flask_sqlalchemy_async import FlaskSqlalchemyAsyncTransform

# the transform's first Example (items; add_item behind key_required), on db.init_app(app), and more
EXAMPLE = FlaskSqlalchemyAsyncTransform.EXAMPLES[0].before
SOURCE = EXAMPLE.replace(
    "db = SQLAlchemy(app)\n", 'app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"\ndb = SQLAlchemy()\ndb.init_app(app)\n'
) + '''

def file_key_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        with open("/tmp/key") as f:
            if request.headers.get("X-Key") != f.read():
                return jsonify(error="unauthorized"), 401
        return view(*args, **kwargs)

    return wrapped


def logged(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        print(view.__name__)
        return view(*args, **kwargs)

    return wrapped


def label(name):
    return name.strip().title()


def newest():
    return db.session.scalar(db.select(Item).order_by(Item.id.desc()))


@app.post("/items/named")
@key_required
def created():
    item = Item(name=label(g.user))
    db.session.add(item)
    db.session.commit()
    return {"id": item.id, "name": item.name}, 201


@app.get("/items/count")
@file_key_required
def count():
    return {"n": db.session.scalar(db.select(db.func.count(Item.id)))}


@app.put("/items/<int:item_id>")
@key_required
def rename(item_id):
    db.session.get(Item, item_id).name = label(g.user)
    db.session.commit()
    return {"ok": True}


@app.get("/items/first")
@logged
def first():
    return {"id": db.session.get(Item, 1).id}


@app.get("/items/newest")
def last():
    return {"id": newest().id}
'''
# without the helper on db.session, the project leaves for plain SQLAlchemy
NEWEST = '''

def newest():
    return db.session.scalar(db.select(Item).order_by(Item.id.desc()))
'''
LAST = '''

@app.get("/items/newest")
def last():
    return {"id": newest().id}
'''
PLAIN = SOURCE.replace(NEWEST, "").replace(LAST, "")
KEPT = {
    "example.count": "decorated by example.file_key_required, which calls builtins.open (file I/O)",
    "example.first": "example.first keeps the decorator example.logged, a sync wrapper",
}


def test_the_plain_project_is_the_one_without_the_helper():
    assert PLAIN != SOURCE
    assert gather(Path("example.py"), PLAIN.encode()).plain_sqlalchemy.db == "example.db"
    assert gather(Path("example.py"), SOURCE.encode()).plain_sqlalchemy.problem == "uses db.session.scalar in newest"


@pytest.mark.parametrize("source", [SOURCE, PLAIN], ids=["flask_sqlalchemy", "plain"])
def test_a_guard_and_a_helper_are_followed(source):
    # key_required checks a header: a dependency, and rename (calling label(), a pure helper) is async
    converted = convert_one(source.encode(), "example.py", ORDER).new.decode()
    assert "async def rename(item_id: int, user: CurrentUser, db_session: AsyncDbSessionDep):\n" in converted
    assert "    (await db_session.get(Item, item_id)).name = label(user)\n    await db_session.commit()\n" in converted
    # a guard whose own check blocks stays a sync dependency, and keeps its views def; another
    # decorator stays a sync wrapper
    assert "\ndef count(" in converted and "\ndef first(" in converted
    assert "async def add_item(user: CurrentUser, db_session: AsyncDbSessionDep):\n" in converted


def test_the_report_names_what_keeps_each_view_sync():
    reasons = gather(Path("example.py"), SOURCE.encode()).sync_reasons
    assert reasons == {
        **KEPT,
        "example.last": "example.newest uses Flask-SQLAlchemy's sync session",
        "example.created": (
            "reads item.id in a view that commits: Flask-SQLAlchemy's session expires loaded values on commit, "
            "and an async session cannot load them again on access"
        ),
    }
    assert gather(Path("example.py"), PLAIN.encode()).sync_reasons == KEPT


def test_on_plain_sqlalchemy_the_guarded_view_reads_after_its_commit_refreshed():
    # commit_expiry: one refresh right after the commit, where the sync session loaded on access
    converted = convert_one(PLAIN.encode(), "example.py", ORDER).new.decode()
    assert (
        "async def created(user: CurrentUser, db_session: AsyncDbSessionDep):\n"
        "    item = Item(name=label(user))\n"
        "    db_session.add(item)\n"
        "    await db_session.commit()\n"
        "    await db_session.refresh(item)\n"
        "    return {\"id\": item.id, \"name\": item.name}\n"
    ) in converted


@pytest.mark.parametrize("source", [SOURCE, PLAIN], ids=["flask_sqlalchemy", "plain"])
def test_a_second_conversion_changes_nothing(source):
    first = convert_one(source.encode(), "example.py", ORDER).new
    assert convert_one(first, "example.py", ORDER).status == "unchanged"
