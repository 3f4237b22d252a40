"""Title resolution and recommendation lists."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import tiny_tables
from movierec.data.titles import TitleIndex, title_forms
from movierec.errors import ParameterError, TitleError
from movierec.judging.recommend import cosine_similarities, recommend


@pytest.fixture
def index() -> TitleIndex:
    return TitleIndex(tiny_tables()[0])


def test_title_forms_move_articles_and_drop_years():
    forms = title_forms("Matrix, The (1999)")
    assert {"the matrix", "the matrix (1999)", "matrix, the", "matrix, the (1999)"} <= forms
    assert "les miserables (1995)" in title_forms("Misérables, Les (1995)")


@pytest.mark.parametrize(
    "typed", ["Matrix, The (1999)", "the matrix", "THE MATRIX (1999)", "  matrix, the ", "id:10"]
)
def test_resolution_forms(index, typed):
    assert index.resolve(typed) == 0


def test_unknown_title_suggests_close_matches(index):
    with pytest.raises(TitleError, match=r"unknown title 'Toy Storyy': did you mean 'Toy Story \(1995\)'"):
        index.resolve("Toy Storyy")


def test_year_is_optional_but_ambiguity_is_an_error():
    movies, _ = tiny_tables()
    movies.loc[4, "title"] = "Emma (2009)"
    index = TitleIndex(movies)
    assert index.resolve("emma (2009)") == 4
    with pytest.raises(TitleError, match=r"matches 2 movies: Emma \(1996\) \(movieId 40, use 'id:40'\)"):
        index.resolve("Emma")


def test_resolve_all_dedupes_and_reports_every_bad_title(index):
    assert index.resolve_all(["the matrix", "Matrix, The (1999)", "toy story"]) == [0, 1]
    with pytest.raises(TitleError, match="no input titles"):
        index.resolve_all([])
    with pytest.raises(TitleError, match="'Nope'.*'Nada'"):
        index.resolve_all(["Nope", "toy story", "Nada"])


def test_recommend_excludes_inputs_and_ranks_by_mean_cosine():
    movies, _ = tiny_tables()
    embeddings = np.array([[1.0, 0.9, 0.0, 1.0, 0.0], [0.0, 0.1, 1.0, 0.2, 0.0]])
    table = recommend(embeddings, movies, ["the matrix"], top_n=3)
    assert list(table.columns) == ["rank", "movieId", "title", "genres", "score"]
    assert table["movieId"].tolist() == [20, 40, 30]
    assert 10 not in table["movieId"].tolist()
    assert table["score"].tolist()[:2] == pytest.approx([0.9 / np.sqrt(0.82), 1 / np.sqrt(1.04)])
    assert table["score"].iloc[-1] == pytest.approx(0.0)


def test_zero_norm_embeddings_score_zero_not_nan():
    embeddings = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]])
    similarities = cosine_similarities(embeddings, [0, 1])
    assert np.isfinite(similarities).all()
    assert similarities[1].tolist() == [0.0, 0.0, 0.0]


def test_bad_inputs_are_named():
    movies, _ = tiny_tables()
    good = np.ones((2, 5))
    with pytest.raises(ParameterError, match="top_n"):
        recommend(good, movies, ["toy story"], top_n=0)
    with pytest.raises(ParameterError, match="shape"):
        recommend(np.ones((2, 4)), movies, ["toy story"])
    with pytest.raises(ParameterError, match="diverged"):
        recommend(np.full((2, 5), np.nan), movies, ["toy story"])
