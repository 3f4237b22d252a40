"""The synthetic generator: seeded, MovieLens-shaped, and a real archive that loads back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec.data import likes_matrix, load_movielens
from movierec.data.synthetic import Shape, popularity, synthetic_archive, synthetic_tables

SMALL = Shape(n_users=50, n_movies=200, n_ratings=3_000)


def test_same_seed_same_tables_other_seed_other_tables():
    first, second, other = synthetic_tables(SMALL, 1), synthetic_tables(SMALL, 1), synthetic_tables(SMALL, 2)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert not first[1].equals(other[1])


def test_shapes_and_types():
    movies, ratings = synthetic_tables(SMALL, 0)
    assert len(movies) == 200 and ratings["userId"].nunique() == 50
    assert 0.8 * SMALL.n_ratings < len(ratings) <= 1.3 * SMALL.n_ratings
    assert not ratings.duplicated(["userId", "movieId"]).any()
    assert ratings.groupby("userId").size().min() >= 20
    assert set(np.unique(ratings["rating"])) <= {x / 2 for x in range(1, 11)}
    assert 0.3 < (ratings["rating"] >= 4).mean() < 0.7
    assert movies.dtypes.astype(str).to_dict() == {"movieId": "int32", "title": "string", "genres": "string"}
    assert ratings.dtypes.astype(str).to_dict() == {
        "userId": "int32",
        "movieId": "int32",
        "rating": "float32",
        "timestamp": "int64",
    }


def test_popularity_is_zipf_like():
    p = popularity(1000)
    assert np.isclose(p.sum(), 1) and (np.diff(p) < 0).all()
    assert p[0] / p[99] == (99 + 30) / 30


def test_archive_loads_back_as_ml_latest(tmp_path):
    path = synthetic_archive(tmp_path / "synthetic.zip", SMALL, seed=3)
    data = load_movielens(path, dataset="ml-latest", verify=False)
    movies, ratings = synthetic_tables(SMALL, 3)
    pd.testing.assert_frame_equal(data.movies, movies)
    pd.testing.assert_frame_equal(data.ratings, ratings)
    assert likes_matrix(data.ratings, data.movies).matrix.shape == (50, 200)
