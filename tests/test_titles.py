"""Title look-up beyond exact forms: dropped articles, alternate titles, words, substrings,
and error messages that quote user input at a readable length."""

from __future__ import annotations

import pandas as pd
import pytest

from movierec.data.titles import QUOTE_LIMIT, TitleIndex, quoted, split_alternates, title_forms
from movierec.errors import TitleError


def catalogue(*titles: str) -> TitleIndex:
    return TitleIndex(
        pd.DataFrame(
            {"movieId": range(1, len(titles) + 1), "title": list(titles), "genres": [""] * len(titles)}
        )
    )


def test_alternate_titles_and_dropped_articles_are_forms():
    assert split_alternates("Amelie (Fabuleux destin d'Amélie Poulain, Le)") == [
        "Amelie",
        "Fabuleux destin d'Amélie Poulain, Le",
    ]
    assert split_alternates("Independence Day (a.k.a. ID4)") == ["Independence Day", "ID4"]
    forms = title_forms("Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)")
    assert {
        "amelie",
        "amelie (2001)",
        "le fabuleux destin d'amelie poulain",
        "fabuleux destin d'amelie poulain",
    } <= forms
    assert {"matrix", "the matrix", "matrix (1999)"} <= title_forms("Matrix, The (1999)")


def test_words_then_substrings_before_fuzzy_suggestions():
    index = catalogue(
        "Star Wars: Episode IV - A New Hope (1977)",
        "Star Wars: Episode V - The Empire Strikes Back (1980)",
        "Star Maps (1997)",
        "Matrix, The (1999)",
        "Matrix Reloaded, The (2003)",
        "Shawshank Redemption, The (1994)",
    )
    with pytest.raises(TitleError, match=r"title 'Star Wars' matches 2 movies: Star Wars: Episode IV"):
        index.resolve("Star Wars")
    assert index.resolve("matrix") == 3  # the exact form wins over "Matrix Reloaded"
    assert index.resolve("shawshank") == 5  # one word match
    assert index.resolve("empire strikes") == 1
    assert index.resolve("hawshan") == 5  # a substring, when no whole word matches
    with pytest.raises(TitleError, match="did you mean 'Star Maps \\(1997\\)'"):
        index.resolve("Star Mapz")


def test_error_messages_quote_input_cut_to_a_readable_length():
    index = catalogue("Toy Story (1995)")
    typed = "x" * 100_000
    with pytest.raises(TitleError) as caught:
        index.resolve(typed)
    assert len(str(caught.value)) < 4 * QUOTE_LIMIT
    assert quoted("abc") == "'abc'" and quoted("y" * 500).endswith("…'")


@pytest.mark.integration
@pytest.mark.parametrize(
    "typed,expected",
    [
        ("matrix", "Matrix, The (1999)"),
        ("godfather", "Godfather, The (1972)"),
        ("terminator", "Terminator, The (1984)"),
        ("amelie", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
        ("the matrix", "Matrix, The (1999)"),
    ],
)
def test_real_titles_resolve(movielens, typed, expected):
    index = TitleIndex(movielens.movies)
    assert index.titles[index.resolve(typed)] == expected


@pytest.mark.integration
def test_star_wars_lists_the_star_wars_films(movielens):
    index = TitleIndex(movielens.movies)
    with pytest.raises(TitleError) as caught:
        index.resolve("Star Wars")
    message = str(caught.value)
    assert "Star Wars: Episode IV - A New Hope (1977)" in message
    assert "Star Maps" not in message and "Car Wash" not in message


def test_an_ambiguity_lists_every_match_up_to_twenty_else_offers_all_matches():
    import pandas as pd

    from movierec.data.titles import MAX_LISTED, TitleIndex

    def catalogue(count: int) -> TitleIndex:
        titles = [f"Dragon Tale {number} (2000)" for number in range(count)]
        return TitleIndex(pd.DataFrame({"movieId": range(1, count + 1), "title": titles, "genres": "Drama"}))

    with pytest.raises(TitleError) as caught:
        catalogue(MAX_LISTED).resolve("dragon tale")
    assert str(caught.value).count("use 'id:") == MAX_LISTED and "more" not in str(caught.value)
    with pytest.raises(TitleError) as caught:
        catalogue(MAX_LISTED + 1).resolve_all(["dragon tale"])
    assert str(caught.value).count("use 'id:") == 8
    assert str(caught.value).endswith(
        f"and {MAX_LISTED + 1 - 8} more (--all-matches, or all_matches=True, lists them all)"
    )
    with pytest.raises(TitleError) as caught:
        catalogue(MAX_LISTED + 1).resolve_all(["dragon tale"], all_matches=True)
    assert str(caught.value).count("use 'id:") == MAX_LISTED + 1
