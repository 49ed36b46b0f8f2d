"""codemod/commit_expiry.py: which reads a commit expired, in the order the view runs, and which
of them one ``refresh()`` right after the commit can load."""

import textwrap

import libcst as cst
import libcst.matchers as m

from codemod.commit_expiry import commit_expiry


def _session_call(call: cst.Call) -> str | None:
    if m.matches(call.func, m.Attribute(m.Attribute(m.Name("db"), m.Name("session")), m.Name())):
        return call.func.attr.value  # type: ignore[attr-defined]
    return None


def expiry(source: str, candidates, loaded=()):
    function = cst.parse_module(textwrap.dedent(source)).body[0]
    found = commit_expiry(function, frozenset(candidates), frozenset(loaded), _session_call)
    refresh = {cst.Module([]).code_for_node(s).strip(): names for s, names in found.refresh.items()}
    return refresh, sorted(cst.Module([]).code_for_node(a) for a in found.run_sync)


def test_read_before_the_commit_is_not_expired_and_one_refresh_after_it():
    refresh, run_sync = expiry(
        """\
        def view():
            book = db.session.get(Book, 1)
            review = Review(book_id=book.id)
            db.session.add(review)
            db.session.commit()
            latest = db.session.get(Review, 2)
            print(latest.id)
            return {"id": review.id, "book": book.id, "stars": review.stars}
        """,
        {("book", "id"), ("review", "id"), ("review", "stars"), ("latest", "id")},
        loaded={"book", "latest"},
    )
    assert refresh == {"db.session.commit()": ["review", "book"]}
    assert run_sync == []


def test_a_guard_between_the_commit_and_the_read_keeps_run_sync():
    """A refresh of None would fail where the view's own check answered."""
    refresh, run_sync = expiry(
        """\
        def view():
            tag = db.session.scalars(select(Tag)).first()
            db.session.commit()
            if tag is None:
                return "none"
            return tag.name
        """,
        {("tag", "name")},
        loaded={"tag"},
    )
    assert refresh == {}
    assert run_sync == ["tag.name"]


def test_what_a_refresh_cannot_prove_runs_in_run_sync():
    refresh, run_sync = expiry(
        """\
        def view(flag):
            made = Tag(name="x")
            gone = db.session.get(Tag, 1)
            db.session.delete(gone)
            db.session.commit()
            if flag:
                print(made.name)
            return [made.name if flag else None, gone.name]
        """,
        {("made", "name"), ("gone", "name")},
        loaded={"gone"},
    )
    # made was never added (it may not be in the session), gone was deleted; the read in the if's block is not sure to run
    assert refresh == {}
    assert run_sync == ["gone.name", "made.name", "made.name"]


def test_a_commit_in_a_loop_expires_every_read():
    refresh, run_sync = expiry(
        """\
        def view(names):
            for name in names:
                tag = db.session.get(Tag, name)
                print(tag.id)
                db.session.commit()
        """,
        {("tag", "id")},
        loaded={"tag"},
    )
    assert refresh == {}
    assert run_sync == ["tag.id"]


def test_a_second_commit_needs_a_second_refresh():
    refresh, _ = expiry(
        """\
        def view():
            tag = db.session.get(Tag, 1)
            db.session.commit()
            a = tag.id
            b = tag.name
            db.session.commit()  # again
            return tag.id
        """,
        {("tag", "id"), ("tag", "name")},
        loaded={"tag"},
    )
    assert refresh == {"db.session.commit()": ["tag"], "db.session.commit()  # again": ["tag"]}


def test_a_comprehension_binds_its_own_names():
    """``book`` of the comprehension is not the view's ``book``, which the commit expired."""
    refresh, run_sync = expiry(
        """\
        def view(books):
            book = db.session.get(Book, 1)
            db.session.commit()
            titles = [book.title for book in books]
            return book.title
        """,
        {("book", "title")},
        loaded={"book"},
    )
    assert refresh == {}
    assert run_sync == ["book.title"]  # the view's: "book" is used as a comprehension target between
