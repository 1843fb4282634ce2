"""Explore, Curate and filter handlers on a small seeded database."""

import json
from pathlib import Path

import gradio as gr
import pytest
from plotly.graph_objects import Figure
from sqlmodel import Session, select

from db.models import CuratedItem, CuratedSet, Rationale, User
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.curate import CurateHandlers, parse_picks
from webapp.handlers.explore import ExploreHandlers, next_page, previous_page
from webapp.handlers.filters import filter_json, to_filter


def test_filter_form_values_become_a_rationale_filter() -> None:
    data = filter_json(1, "train", 0, "", "wrong", "", 0, 0, 3, "  pens ")
    assert data == {"dataset_id": 1, "split": "train", "verdict": "wrong", "max_steps": 3, "search": "pens",
                    "include_duplicates": True}  # fmt: skip
    assert to_filter(data).verdict == "wrong"
    with pytest.raises(gr.Error, match="larger than max steps"):
        filter_json(0, "", 0, "", "", "", 0, 5, 2, "")
    with pytest.raises(gr.Error, match="unknown filter fields"):
        to_filter({"colour": "red"})


def test_explore_pages_sorts_and_filters(app: AppContext, rationales: list[Rationale]) -> None:
    handlers = ExploreHandlers(app)
    shown, summary, page = handlers.page({}, "id", False, 1, 5)
    table = shown["value"]
    assert list(table["id"]) == [r.id for r in rationales[:5]] and page == 1
    assert "12 matching" in summary and "page 1 of 3" in summary
    last, _, page = handlers.page({}, "id", True, 99, 5)  # past the end: the last page
    assert page == 3 and list(last["value"]["id"]) == [rationales[1].id, rationales[0].id]
    wrong, summary, _ = handlers.page({"verdict": "wrong"}, "id", False, 1, 50)
    assert set(wrong["value"]["verdict"]) == {"wrong"} and "6 matching" in summary
    nothing, _, _ = handlers.page({"search": "no such question"}, "id", False, 1, 50)
    assert nothing["value"].empty and nothing["label"].startswith("No rationale matches")
    assert previous_page(1) == 1 and next_page(2) == 3


def test_explore_charts_and_overview(app: AppContext, rationales: list[Rationale]) -> None:
    handlers = ExploreHandlers(app)
    *figures, agreement = handlers.charts({})
    assert all(isinstance(f, Figure) for f in figures)
    assert json.loads(figures[0].to_json())["data"][0]["y"] == [50.0]  # half the teacher samples are right
    overview = handlers.overview()["value"]
    assert overview.loc[0, "accuracy"] == "50.0%" and agreement["value"].empty
    # Nobody reviewed anything: the agreement and reviews-per-hour charts say so instead of empty axes.
    for figure, sentence in (
        (figures[3], "No overlapping reviews yet"),
        (figures[4], "No timed reviews yet"),
    ):
        layout = json.loads(figure.to_json())["layout"]
        assert sentence in layout["annotations"][0]["text"] and not json.loads(figure.to_json())["data"]
    assert agreement["label"].startswith("No overlapping reviews yet")


def test_explore_charts_on_an_empty_database_say_what_fills_them(app: AppContext) -> None:
    *figures, _ = ExploreHandlers(app).charts({})
    texts = [json.loads(f.to_json())["layout"]["annotations"][0]["text"] for f in figures]
    assert texts[0].startswith("No answer-checked rationales yet") and len(texts) == 5
    assert ExploreHandlers(app).overview()["label"].startswith("No datasets yet")


def test_reviews_per_hour_chart_per_annotator(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    from backend.access.auth import ensure_local_user
    from backend.annotation import review_rationale

    user = ensure_local_user(session)
    for rationale in rationales[:3]:  # three reviews in 3 minutes: 60 per hour
        review_rationale(
            session, rationale_id=rationale.id or 0, expected_version=1, verdict="accept", reviewer=user,
            seconds_spent=60,
        )  # fmt: skip
    *figures, _ = ExploreHandlers(app).charts({})
    bars = json.loads(figures[4].to_json())["data"][0]
    assert bars["x"] == [user.username] and bars["y"] == [60.0]


def test_parse_picks() -> None:
    assert parse_picks(" 3, 1 3;2 ") == [1, 2, 3]
    with pytest.raises(gr.Error, match="got &#x27;x&#x27;"):  # escaped: the modal renders HTML
        parse_picks("1 x")


def test_curate_preview_create_freeze_export(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    handlers = CurateHandlers(auth_app)
    summary, *_figures, sample = handlers.preview({"verdict": "correct"}, f"{rationales[1].id} 999", True)
    assert "**7**" in summary and "999" in summary
    assert len(sample["value"]) == 7
    message, table, *_ = handlers.create(
        {"verdict": "correct"}, str(rationales[1].id), True, "gold", "", as_user("alice")
    )
    curated = session.exec(select(CuratedSet).where(CuratedSet.name == "gold")).one()
    assert (
        curated.created_by_id == users["alice"].id
        and "7 rationales" in message
        and "gold" in set(table["value"]["name"])
    )
    handlers.freeze(curated.id, as_user("alice"))
    session.expire_all()
    assert all(item.revision_number == 1 for item in session.exec(select(CuratedItem)))
    summary, download = handlers.export(
        {}, curated.id, "cot", "prompt_completion", "sets/gold.jsonl", "set", as_user("alice")
    )
    path = auth_app.settings.resolved_export_root / "sets" / "gold.jsonl"
    assert download["value"] == str(path) and "wrote 7 examples" in summary
    assert json.loads(path.read_text().splitlines()[0])["prompt"].startswith("Q: ")


def test_curate_refuses_viewers_and_paths_outside_the_export_root(
    auth_app: AppContext,
    users: dict[str, User],
    rationales: list[Rationale],
    session: Session,
    tmp_path: Path,
) -> None:
    handlers = CurateHandlers(auth_app)
    with pytest.raises(gr.Error):
        handlers.create({}, "", True, "viewer set", "", as_user("victor"))
    assert session.exec(select(CuratedSet)).first() is None
    handlers.create({}, "", True, "all", "", as_user("alice"))
    curated = session.exec(select(CuratedSet)).one()
    handlers.freeze(curated.id, as_user("admin"))
    with pytest.raises(gr.Error, match="outside"):
        handlers.export(
            {}, curated.id, "cot", "messages", str(tmp_path / "escape.jsonl"), "set", as_user("alice")
        )
    with pytest.raises(gr.Error, match="outside"):
        handlers.export({}, curated.id, "cot", "messages", "../../escape.jsonl", "set", as_user("alice"))
    with pytest.raises(gr.Error):  # a viewer exports nothing, from a set or a filter
        handlers.export({}, curated.id, "cot", "prm800k", "v.jsonl", "filter", as_user("victor"))
    with pytest.raises(gr.Error, match="already frozen"):
        handlers.freeze(curated.id, as_user("alice"))


def test_clicking_a_set_shows_its_preview_and_picks_it(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    handlers = CurateHandlers(app)
    picks = f"{rationales[0].id} {rationales[3].id}"
    handlers.create({}, picks, False, "two", "", as_user(None))
    table, _, _ = handlers.sets()
    row = table["value"].values.tolist()[0]
    summary, *_figures, sample, set_pick, export_pick = handlers.open_set(
        gr.SelectData(None, {"index": [0, 1], "value": row[1], "row_value": row})
    )
    assert "'two'" in summary and "draft" in summary and "**2**" in summary
    assert list(sample["value"]["id"]) == [rationales[0].id, rationales[3].id]
    assert set_pick["value"] == row[0] and export_pick == gr.skip()  # a draft cannot be exported


def test_empty_sets_table_and_pickers_say_what_fills_them(app: AppContext) -> None:
    table, every, frozen = CurateHandlers(app).sets()
    assert table["label"].startswith("No sets yet") and every["info"].startswith("No sets yet")
    assert frozen["info"].startswith("No frozen set yet")


def test_step_labels_export_from_the_filter(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    from backend.access.auth import ensure_local_user
    from backend.annotation import review_rationale

    user = ensure_local_user(session)
    review_rationale(
        session, rationale_id=rationales[0].id or 0, expected_version=1, verdict="reject", reviewer=user,
        step_ratings=[1, -1],
    )  # fmt: skip
    summary, download = CurateHandlers(app).export(
        {"review_status": "rejected"}, None, "cot", "processbench", "pb.jsonl", "filter", as_user(None)
    )
    line = json.loads(Path(download["value"]).read_text())
    assert "wrote 1 step\\-labelled" in summary and line["label"] == 1  # Markdown-escaped
    assert line["rationale_id"] == rationales[0].id


def test_clicking_a_run_row_filters_explore_to_it(app: AppContext, rationales: list[Rationale]) -> None:
    handlers = ExploreHandlers(app)
    row = handlers.overview()["value"].values.tolist()[0]
    dataset, run = handlers.pick_run(
        gr.SelectData(None, {"index": [0, 3], "value": row[3], "row_value": row})
    )
    assert (dataset["value"], run["value"]) == (rationales[0].dataset_id, rationales[0].run_id)
    shown, summary, _ = handlers.page(
        filter_json(dataset["value"], "", run["value"], "", "", "", 0, None, None, ""), "id", False, 1, 50
    )
    assert "12 matching" in summary and set(shown["value"]["run"]) == {"teacher-a"}


def test_set_names_descriptions_and_picks_over_the_limits_are_refused(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    """Issue 26: a 1 MB set name made every Curate load 12 MB; SET1 could sit beside set1."""
    handlers = CurateHandlers(auth_app)
    alice = as_user("alice")
    handlers.create({}, "", True, "set1", "", alice)
    attempts = [
        (("SET1", ""), "a curated set named &#x27;set1&#x27; already exists"),
        (("n" * 1_000_000, ""), "the set name is too long: 1,000,000 characters"),
        (("ok", "d" * 10_000), "the set description is too long"),
        (("evil\u202e", ""), "U\\+202E"),
        (("nul\x00", ""), "NUL"),
    ]
    for (name, description), message in attempts:
        with pytest.raises(gr.Error, match=message):
            handlers.create({}, "", True, name, description, alice)
    with pytest.raises(gr.Error, match="the list of picked ids is too long"):
        handlers.create({}, "1 " * 60_000, False, "picked", "", alice)
    assert session.exec(select(CuratedSet.name)).all() == ["set1"]
    set_id = session.exec(select(CuratedSet.id)).one()
    with pytest.raises(gr.Error, match="the export path is too long"):
        handlers.export({}, set_id, "cot", "messages", "p" * 5_000, "set", alice)


def test_a_nul_or_an_overlong_search_is_a_clear_error(app: AppContext, rationales: list[Rationale]) -> None:
    with pytest.raises(gr.Error, match="NUL"):
        filter_json(0, "", 0, "", "", "", 0, 0, 0, "pens\x00")
    with pytest.raises(gr.Error, match="the search text is too long: 50,000 characters"):
        filter_json(0, "", 0, "", "", "", 0, 0, 0, "x" * 50_000)
    with pytest.raises(gr.Error, match="the search text is too long"):  # a filter forged in the browser
        ExploreHandlers(app).page({"search": "x" * 50_000}, "id", False, 1, 50)
    shown, _, _ = ExploreHandlers(app).page({"search": "%"}, "id", False, 1, 50)
    assert shown["value"].empty  # no question holds a "%": matched literally, not as a wildcard
