"""Data: the real archive's reference figures, and the likes/co-like rules on tiny tables."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import tiny_tables
from movierec.data import colike_matrix, deduplicate_ratings, likes_matrix, load_movielens
from movierec.errors import DataError


def test_likes_matrix_covers_all_movies_and_applies_threshold():
    movies, ratings = tiny_tables()
    likes = likes_matrix(ratings, movies)
    assert likes.matrix.shape == (4, 5)
    assert likes.user_ids.tolist() == [1, 2, 3, 4]
    assert likes.movie_ids.tolist() == [10, 20, 30, 40, 50]
    expected = np.array(
        [[1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [1, 0, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=np.float32
    )
    np.testing.assert_array_equal(likes.matrix.toarray(), expected)
    assert likes.like_counts.tolist() == [2, 2, 1, 1, 0]


def test_colike_matrix_counts_pairs_with_zero_diagonal():
    movies, ratings = tiny_tables()
    colikes = colike_matrix(likes_matrix(ratings, movies)).toarray()
    expected = np.zeros((5, 5), dtype=np.int32)
    expected[0, 1] = expected[1, 0] = 1  # user 1
    expected[1, 2] = expected[2, 1] = 1  # user 2
    expected[0, 3] = expected[3, 0] = 1  # user 3
    np.testing.assert_array_equal(colikes, expected)


def test_duplicate_ratings_keep_the_latest():
    movies, ratings = tiny_tables()
    late_dislike = pd.DataFrame({"userId": [1], "movieId": [10], "rating": [1.0], "timestamp": [100]}).astype(
        ratings.dtypes.to_dict()
    )
    doubled = pd.concat([late_dislike, ratings], ignore_index=True)
    kept = deduplicate_ratings(doubled)
    assert len(kept) == len(ratings)
    assert float(kept.loc[(kept.userId == 1) & (kept.movieId == 10), "rating"].iloc[0]) == 1.0
    assert likes_matrix(doubled, movies).matrix[0, 0] == 0


def test_ratings_of_unknown_movies_are_an_error():
    movies, ratings = tiny_tables()
    with pytest.raises(DataError, match="missing from movies.csv"):
        likes_matrix(ratings, movies[movies.movieId != 10])


@pytest.mark.integration
def test_real_archive_counts_and_dtypes(movielens):
    movies, ratings = movielens.movies, movielens.ratings
    assert len(movies) == 9742 and len(ratings) == 100836
    assert ratings["userId"].nunique() == 610 and ratings["movieId"].nunique() == 9724
    assert int((ratings["rating"] >= 4).sum()) == 48580
    assert movies.dtypes.astype(str).to_dict() == {"movieId": "int32", "title": "string", "genres": "string"}
    assert ratings.dtypes.astype(str).to_dict() == {
        "userId": "int32",
        "movieId": "int32",
        "rating": "float32",
        "timestamp": "int64",
    }
    assert movielens.checksum == "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"
    assert movies.loc[0, "title"] == "Toy Story (1995)"


@pytest.mark.integration
def test_real_colike_reference_figures(likes, colikes):
    assert likes.matrix.shape == (610, 9742) and likes.matrix.nnz == 48580
    assert colikes.nnz == 6_000_360
    assert colikes.max() == 168
    assert int(colikes.sum(dtype=np.int64)) == 11_098_852
    assert int(np.square(colikes.data.astype(np.int64)).sum()) == 63_482_944
    columns = [likes.movie_index[m] for m in range(1, 11) if m in likes.movie_index]
    assert [likes.movie_ids[c] for c in columns] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expected = {
        1: [0, 21, 11, 0, 7, 27, 7, 1, 4, 19],
        2: [21, 0, 5, 0, 4, 8, 6, 0, 0, 9],
        3: [11, 5, 0, 0, 4, 4, 5, 1, 2, 3],
        5: [7, 4, 4, 0, 0, 3, 4, 1, 1, 2],
    }
    for movie_id, row in expected.items():
        assert colikes[likes.movie_index[movie_id], columns].toarray().ravel().tolist() == row


@pytest.mark.integration
def test_real_user_rows(likes):
    first_ten = [likes.movie_index[m] for m in range(1, 11)]
    user1 = likes.matrix[likes.user_index[1], first_ten].toarray().ravel()
    assert [m for m, liked in zip(range(1, 11), user1, strict=True) if liked] == [1, 3, 6]
    for user in (608, 609):
        assert likes.matrix[likes.user_index[user], likes.movie_index[10]] == 1


@pytest.mark.integration
def test_unpacked_folder_loads_the_same(archive, movielens, tmp_path):
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(tmp_path)
    folder = load_movielens(tmp_path / "ml-latest-small")
    pd.testing.assert_frame_equal(folder.movies, movielens.movies)
    pd.testing.assert_frame_equal(folder.ratings, movielens.ratings)


@pytest.mark.integration
def test_the_archive_and_its_unpacked_folder_are_one_data_with_one_key(archive, movielens, tmp_path):
    from movierec.model.train import TrainConfig

    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(tmp_path)
    folder = load_movielens(tmp_path / "ml-latest-small")
    above = load_movielens(tmp_path)  # the folder that holds ml-latest-small/
    pin = "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"
    assert movielens.checksum == folder.checksum == above.checksum == pin
    assert TrainConfig().key(folder.checksum) == TrainConfig().key(movielens.checksum) == "51b70cb09df005e4"
    ratings = tmp_path / "ml-latest-small" / "ratings.csv"
    ratings.write_bytes(ratings.read_bytes().replace(b"1,1,4.0,964982703", b"1,1,4.5,964982703", 1))
    edited = load_movielens(tmp_path / "ml-latest-small")
    assert edited.checksum != pin  # other data, other keys


@pytest.mark.integration
def test_folder_with_missing_rows_is_rejected(archive, tmp_path):
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(tmp_path)
    ratings = tmp_path / "ml-latest-small" / "ratings.csv"
    lines = ratings.read_bytes().splitlines(keepends=True)
    ratings.write_bytes(b"".join(lines[:-10]))
    with pytest.raises(DataError, match="100,826 ratings rows, but ml-latest-small has 100,836"):
        load_movielens(tmp_path / "ml-latest-small")


@pytest.mark.integration
def test_archive_with_wrong_checksum_is_rejected(archive, tmp_path):
    copy = tmp_path / "ml-latest-small.zip"
    shutil.copy(archive, copy)
    with zipfile.ZipFile(copy, "a") as bundle:
        bundle.writestr("ml-latest-small/extra.txt", "x")
    with pytest.raises(DataError, match="SHA-256 .* but the official ml-latest-small.zip has 696d65a3"):
        load_movielens(copy)


def test_env_variable_pointing_nowhere_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_DATA", str(tmp_path / "nothing.zip"))
    with pytest.raises(DataError, match="MOVIEREC_DATA .*nothing.zip.* does not exist"):
        load_movielens()
