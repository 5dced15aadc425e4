"""Writers refuse to replace an existing file unless told to (``overwrite=True``).

``rv.io.write_npz``, ``rv.groups.write_npz`` and every widget's ``export`` behave like the
CLI's ``--force``: an existing file is kept and the error names it and the way out.
"""

import numpy as np
import pytest

import rewardviz as rv
from rewardviz import groups, io


def write_log(path, **options):
    io.write_npz(io.example_log(), path, **options)


def write_groups(path, **options):
    groups.write_npz(groups.example_groups(), path, **options)


def export_figure(path, **options):
    rv.widgets.ExpressivityExplorer().export(path, **options)


WRITERS = {
    "io.write_npz": (write_log, "out.npz"),
    "groups.write_npz": (write_groups, "out.npz"),
    "Explorer.export": (export_figure, "out.html"),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_an_existing_file_is_kept_and_the_error_says_how_to_replace_it(writer, tmp_path):
    write, name = WRITERS[writer]
    path = tmp_path / name
    path.write_bytes(b"the old file")
    with pytest.raises(FileExistsError, match=rf"{name}' already exists; pass overwrite=True"):
        write(path)
    assert path.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_overwrite_true_replaces_the_file(writer, tmp_path):
    write, name = WRITERS[writer]
    path = tmp_path / name
    write(path)  # a new file needs no overwrite=True
    path.write_bytes(b"the old file")
    write(path, overwrite=True)
    assert path.read_bytes() != b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_replaced_files_read_back(tmp_path):
    log_path, group_path = tmp_path / "log.npz", tmp_path / "groups.npz"
    log_path.write_bytes(b"old")
    group_path.write_bytes(b"old")
    write_log(log_path, overwrite=True)
    write_groups(group_path, overwrite=True)
    np.testing.assert_array_equal(io.read_npz(log_path).components, io.example_log().components)
    assert groups.read_npz(group_path).names == groups.example_groups().names


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_directory_is_refused_naming_it(writer, tmp_path):
    write, name = WRITERS[writer]
    target = tmp_path / name
    target.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"{name}' is a directory"):
        write(target, overwrite=True)
    assert target.is_dir()


@pytest.mark.parametrize("writer", ["io.write_npz", "groups.write_npz"])
def test_a_file_that_appears_while_writing_is_not_replaced(writer, tmp_path, monkeypatch):
    # Another process creates the file between the first check and the rename.
    write, name = WRITERS[writer]
    path = tmp_path / name
    savez = np.savez_compressed

    def another_writer_meanwhile(file, **arrays):
        path.write_bytes(b"written meanwhile")
        savez(file, **arrays)

    monkeypatch.setattr(np, "savez_compressed", another_writer_meanwhile)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write(path)
    assert path.read_bytes() == b"written meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_overwrite_is_keyword_only(tmp_path):
    with pytest.raises(TypeError):
        io.write_npz(io.example_log(), tmp_path / "log.npz", True)
    with pytest.raises(TypeError):
        groups.write_npz(groups.example_groups(), tmp_path / "groups.npz", True)
