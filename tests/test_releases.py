"""Every MovieLens release's format loads from a small archive written here in that format."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pandas as pd
import pytest

from movierec.data import DEFAULT_RELEASE, RELEASES, get_release, likes_matrix, load_movielens
from movierec.errors import DataError

MOVIE_TYPES = {"movieId": "int32", "title": "string", "genres": "string"}
RATING_TYPES = {"userId": "int32", "movieId": "int32", "rating": "float32", "timestamp": "int64"}
GROUPLENS = "https://files.grouplens.org/datasets/movielens/"  # where GroupLens serves them
RATINGS = [(1, 10, 4.0, 978300760), (1, 20, 3.0, 978302109), (2, 20, 5.0, 978301968), (3, 10, 4.5, 978300275)]


def write_zip(path, files: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return path


def csv_files(folder: str) -> dict[str, bytes]:
    movies = 'movieId,title,genres\n10,"Matrix, The (1999)",Action|Sci-Fi\n20,Misérables (1995),Drama\n'
    ratings = "userId,movieId,rating,timestamp\n" + "".join(f"{u},{m},{r},{t}\n" for u, m, r, t in RATINGS)
    return {
        f"{folder}/movies.csv": movies.encode(),
        f"{folder}/ratings.csv": ratings.encode(),
        f"{folder}/README.txt": b"x",
    }


def dat_files(folder: str, encoding: str) -> dict[str, bytes]:
    movies = "10::Matrix, The (1999)::Action|Sci-Fi\n20::Misérables (1995)::Drama\n"
    ratings = "".join(f"{u}::{m}::{r:g}::{t}\n" for u, m, r, t in RATINGS)
    return {f"{folder}/movies.dat": movies.encode(encoding), f"{folder}/ratings.dat": ratings.encode()}


def item_line(movie_id: int, title: str, flags: set[int]) -> str:
    return f"{movie_id}|{title}|01-Jan-1995||http://us.imdb.com/x|" + "|".join(
        "1" if g in flags else "0" for g in range(19)
    )


def ml100k_files(with_genre_file: bool) -> dict[str, bytes]:
    items = (
        "\n".join([item_line(10, "Matrix, The (1999)", {1, 15}), item_line(20, "Misérables (1995)", {8})])
        + "\n"
    )
    ratings = "".join(f"{u}\t{m}\t{int(r)}\t{t}\n" for u, m, r, t in RATINGS)
    files = {
        "ml-100k/u.item": items.encode("latin-1"),
        "ml-100k/u.data": ratings.encode(),
        "ml-100k/u1.base": b"1\t2\t3\t4\n",
    }
    if with_genre_file:
        names = [
            "unknown",
            "Action",
            "Adventure",
            "Animation",
            "Children's",
            "Comedy",
            "Crime",
            "Documentary",
            "Drama",
            "Fantasy",
            "Film-Noir",
            "Horror",
            "Musical",
            "Mystery",
            "Romance",
            "Sci-Fi",
            "Thriller",
            "War",
            "Western",
        ]
        files["ml-100k/u.genre"] = "".join(f"{name}|{i}\n" for i, name in enumerate(names)).encode()
    return files


def check_tables(data, ratings_as_int: bool = False):
    assert data.movies.dtypes.astype(str).to_dict() == MOVIE_TYPES
    assert data.ratings.dtypes.astype(str).to_dict() == RATING_TYPES
    assert data.movies["title"].tolist() == ["Matrix, The (1999)", "Misérables (1995)"]
    expected = [(u, m, float(int(r)) if ratings_as_int else r, t) for u, m, r, t in RATINGS]
    assert list(data.ratings.itertuples(index=False, name=None)) == expected
    assert likes_matrix(data.ratings, data.movies).matrix.shape == (3, 2)


@pytest.mark.parametrize("name", ["ml-20m", "ml-25m", "ml-32m", "ml-latest"])
def test_csv_releases_load(name, tmp_path):
    data = load_movielens(write_zip(tmp_path / f"{name}.zip", csv_files(name)), dataset=name)
    check_tables(data)
    assert data.release == name and data.movies["genres"].tolist() == ["Action|Sci-Fi", "Drama"]


@pytest.mark.parametrize(
    "name,folder,encoding", [("ml-1m", "ml-1m", "latin-1"), ("ml-10m", "ml-10M100K", "utf-8")]
)
def test_dat_releases_load(name, folder, encoding, tmp_path):
    data = load_movielens(
        write_zip(tmp_path / f"{name}.zip", dat_files(folder, encoding)), dataset=name, verify=False
    )
    check_tables(data)
    assert RELEASES[name].folder == folder


@pytest.mark.parametrize("with_genre_file", [True, False])
def test_ml100k_loads_with_genres_from_flags(with_genre_file, tmp_path):
    archive = write_zip(tmp_path / "ml-100k.zip", ml100k_files(with_genre_file))
    data = load_movielens(archive, dataset="ml-100k")
    check_tables(data, ratings_as_int=True)
    assert data.movies["genres"].tolist() == ["Action|Sci-Fi", "Drama"]


def test_unpacked_folders_are_checked_against_known_counts(tmp_path):
    with zipfile.ZipFile(write_zip(tmp_path / "ml-100k.zip", ml100k_files(True))) as bundle:
        bundle.extractall(tmp_path)
    with pytest.raises(DataError, match="2 movies rows, but ml-100k has 1,682"):
        load_movielens(tmp_path / "ml-100k", dataset="ml-100k")
    assert len(load_movielens(tmp_path / "ml-100k", dataset="ml-100k", verify=False).ratings) == 4


def test_pins_are_sha256_digests_or_say_why_not():
    """The registry's form, not its values: a pin is a SHA-256 digest or None, and a release
    without one says why; the default release, which ``make book`` downloads, is pinned."""
    hex_digest = re.compile(r"[0-9a-f]{64}")
    for name, release in RELEASES.items():
        assert release.name == name and release.archive_name == f"{name}.zip"
        assert release.url == GROUPLENS + release.archive_name, name  # the official file
        assert release.layout in {"csv", "dat", "100k"} and release.folder, name
        if release.sha256 is None:
            assert "unpinned" in release.note and release.tables_sha256 is None, name
        else:
            assert hex_digest.fullmatch(release.sha256) and "unpinned" not in release.note, name
        assert release.tables_sha256 is None or hex_digest.fullmatch(release.tables_sha256), name
        for count in (release.n_movies, release.n_ratings):
            assert count is None or (isinstance(count, int) and count > 0), name
    pins = [pin for release in RELEASES.values() for pin in (release.sha256, release.tables_sha256) if pin]
    assert len(set(pins)) == len(pins) >= 2
    default = get_release(DEFAULT_RELEASE)
    assert default.sha256 and default.tables_sha256 and default.n_movies and default.n_ratings


def release_tables(source) -> tuple[bytes, bytes]:
    """The bytes of ml-latest-small's movies.csv and ratings.csv, from its archive or its folder."""
    if source.is_dir():
        folder = source / "ml-latest-small" if (source / "ml-latest-small").is_dir() else source
        return (folder / "movies.csv").read_bytes(), (folder / "ratings.csv").read_bytes()
    with zipfile.ZipFile(source) as bundle:
        return tuple(bundle.read(f"ml-latest-small/{name}") for name in ("movies.csv", "ratings.csv"))


@pytest.mark.integration
def test_the_default_release_is_pinned_to_the_real_archive(archive):
    """The pins and counts of ml-latest-small against the real archive, hashed and counted here."""
    release = get_release("ml-latest-small")
    if archive.is_file():
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == release.sha256
    movies, ratings = release_tables(archive)
    assert hashlib.sha256(movies + ratings).hexdigest() == release.tables_sha256
    rows = tuple(len(pd.read_csv(io.BytesIO(table))) for table in (movies, ratings))
    assert rows == (release.n_movies, release.n_ratings)


def test_pinned_archive_with_other_content_is_rejected(tmp_path):
    archive = write_zip(tmp_path / "ml-1m.zip", dat_files("ml-1m", "latin-1"))
    with pytest.raises(DataError, match="but the official ml-1m.zip has a6898adb"):
        load_movielens(archive, dataset="ml-1m")


def test_unknown_dataset_is_an_error(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'ml-7m': use one of .*ml-100k"):
        load_movielens(tmp_path, dataset="ml-7m")


def test_bad_value_in_dat_ratings_is_named(tmp_path):
    files = dat_files("ml-1m", "latin-1")
    files["ml-1m/ratings.dat"] += b"4::10::five::978300275\n"
    with pytest.raises(
        DataError, match=r"ratings.dat column 'rating' must be numeric, but row \d+ holds 'five'"
    ):
        load_movielens(write_zip(tmp_path / "ml-1m.zip", files), dataset="ml-1m", verify=False)


def test_missing_file_names_it(tmp_path):
    files = dat_files("ml-10M100K", "utf-8")
    del files["ml-10M100K/ratings.dat"]
    with pytest.raises(DataError, match="has no ratings.dat"):
        load_movielens(write_zip(tmp_path / "ml-10m.zip", files), dataset="ml-10m")


def test_duplicate_ratings_still_keep_the_latest():
    movies = pd.DataFrame({"movieId": [10], "title": ["a"], "genres": ["b"]}).astype(MOVIE_TYPES)
    ratings = pd.DataFrame(
        {"userId": [7, 7], "movieId": [10, 10], "rating": [5.0, 1.0], "timestamp": [2, 1]}
    ).astype(RATING_TYPES)
    assert likes_matrix(ratings, movies).matrix.toarray().tolist() == [[1.0]]


def test_an_unpinned_archive_and_its_folder_share_one_checksum(tmp_path):
    archive = write_zip(tmp_path / "ml-20m.zip", csv_files("ml-20m"))
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(tmp_path / "unpacked")
    checksums = {
        load_movielens(source, dataset="ml-20m").checksum
        for source in (archive, tmp_path / "unpacked", tmp_path / "unpacked" / "ml-20m")
    }
    assert len(checksums) == 1


def test_files_deeper_than_the_release_folder_are_not_looked_for(tmp_path):
    nested = {f"extra/{name}": data for name, data in csv_files("ml-20m").items()}
    with pytest.raises(DataError, match=r"has no ratings.csv \(looked in .*, not deeper\)"):
        load_movielens(write_zip(tmp_path / "ml-20m.zip", nested), dataset="ml-20m")
