"""Reading `.dlg` files and imports on hostile input (issue 12): only regular files within the size
limit are read, never blocking; a path no file can have is a diagnostic; imports stay within the
checked file's folder and the search path, and are nested at most LIMITS.import_depth deep."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import graphdl
from graphdl.limits import LIMITS
from graphdl.source import FileTooLarge, Source

NET = "network n {\n    input = featureInput(3)\n}\n"
BLOCK = "block unit(width) {\n    input x\n    output y\n    fc = fullyConnected(width)\n    x -> fc -> y\n}\n"
USES_UNIT = "network n {\n    input = featureInput(3)\n    u = unit(4)\n}\n"
DEVICES = [path for path in ("/dev/zero", "/dev/urandom") if os.path.exists(path)]


def promptly(function, *args, seconds: float = 5.0, **kwargs):
    """`function(*args)` run in a thread, failing the test if it has not returned within `seconds`
    (a read that blocks would otherwise hang the suite)."""
    done: dict = {}

    def run():
        try:
            done["value"] = function(*args, **kwargs)
        except BaseException as e:
            done["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} did not return within {seconds} s"
    if "error" in done:
        raise done["error"]
    return done["value"]


def only(checked, code: str):
    """The one diagnostic of `code` (with, after it, what a failed import leaves unknown)."""
    codes = [d.code for d in checked.diagnostics]
    assert codes[:1] == [code] and set(codes[1:]) <= {"E201"}, [d.render(checked.sources) for d in checked.diagnostics]
    return checked.diagnostics[0]


def rendered(checked) -> str:
    return "".join(d.render(checked.sources) for d in checked.diagnostics)


# Reading a path


@pytest.mark.parametrize("device", DEVICES)
def test_a_device_is_a_diagnostic_naming_it_not_a_read_without_end(device):
    d = only(promptly(graphdl.check, device), "E001")
    assert d.message == f"cannot read {device}: a character device, not a regular file"
    with pytest.raises(OSError, match=r"E001.*a character device"):
        promptly(graphdl.load, device)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_a_diagnostic_not_a_read_that_waits_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.dlg"
    os.mkfifo(fifo)
    d = only(promptly(graphdl.check, fifo), "E001")
    assert d.message == f"cannot read {fifo}: a FIFO, not a regular file"
    # Imported, the same; the FIFO is never opened, so no writer is waited for.
    (tmp_path / "main.dlg").write_text(f'import "pipe.dlg"\n{NET}')
    d = only(promptly(graphdl.check, tmp_path / "main.dlg"), "E003")
    assert d.message == "cannot import pipe.dlg: a FIFO, not a regular file" and (d.span.line, d.span.column) == (1, 8)


def test_a_folder_is_a_diagnostic(tmp_path):
    d = only(graphdl.check(tmp_path), "E001")
    assert d.message == f"cannot read {tmp_path}: Is a directory"
    with pytest.raises(IsADirectoryError, match="E001"):
        graphdl.load(tmp_path)
    (tmp_path / "main.dlg").write_text(f'import "."\n{NET}')
    assert only(graphdl.check(tmp_path / "main.dlg"), "E003").message == "cannot import .: Is a directory"


@pytest.mark.parametrize("device", DEVICES[:1])
def test_the_command_line_reads_no_device_either(device):
    result = subprocess.run([sys.executable, "-m", "graphdl", "check", device], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"error[E001]: cannot read {device}: a character device, not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.dlg"
    with open(big, "wb") as f:
        f.truncate(LIMITS.file_bytes + 1)  # sparse: takes no room, reads as NUL bytes
    d = only(graphdl.check(big), "E013")
    assert d.message == f"cannot read {big}: larger than the limit of 16 MiB"
    with pytest.raises(OSError) as raised:
        graphdl.load(big)
    assert raised.value.errno == errno.EFBIG and raised.value.code == "E013"
    (tmp_path / "main.dlg").write_text(f'import "big.dlg"\n{NET}')
    d = only(graphdl.check(tmp_path / "main.dlg"), "E013")
    assert d.message == "cannot import big.dlg: larger than the limit of 16 MiB" and d.span.line == 1


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="procfs is Linux's")
def test_the_limit_holds_while_reading_a_file_larger_than_its_size_said():
    # A procfs file is a regular file whose size reads as 0, whatever it holds: as a file that grows
    # after its size was read, it is read up to the limit and no further.
    assert os.stat("/proc/self/maps").st_size == 0
    assert Source.read("/proc/self/maps").text
    with pytest.raises(FileTooLarge, match="larger than the limit of 64 bytes"):
        Source.read("/proc/self/maps", limit=64)


def test_a_path_with_a_nul_character_is_a_diagnostic(tmp_path):
    d = only(graphdl.check("a\0b.dlg"), "E001")
    assert d.message == "cannot read a\\x00b.dlg: a path cannot hold a NUL character"
    with pytest.raises(OSError, match="E001"):
        graphdl.load("a\0b.dlg")
    (tmp_path / "main.dlg").write_text(f'import "a\0b.dlg"\n{NET}')
    d = only(graphdl.check(tmp_path / "main.dlg"), "E003")
    assert d.message == "cannot import a\\x00b.dlg: a path cannot hold a NUL character" and (d.span.line, d.span.column) == (1, 8)
    assert only(graphdl.check_text(f'import "a\0b.dlg"\n{NET}'), "E003").span.line == 1


def test_a_path_of_the_wrong_type_is_an_argument_error():
    with pytest.raises(TypeError, match=r"E229.*a str or a pathlib.Path, not int"):
        graphdl.check(3)  # os.stat(3) would read whatever file descriptor 3 is


def test_text_that_is_not_utf8_is_a_diagnostic(tmp_path):
    (tmp_path / "latin.dlg").write_bytes(b"# caf\xe9\n" + NET.encode())
    assert "can't decode byte 0xe9" in only(graphdl.check(tmp_path / "latin.dlg"), "E001").message


# Imports


@pytest.fixture
def project(tmp_path):
    """A folder to check files in, a secret file beside it, and a library folder."""
    (tmp_path / "project").mkdir()
    (tmp_path / "secret.txt").write_text("password = hunter2\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "blocks.dlg").write_text(BLOCK)
    return tmp_path


@pytest.mark.parametrize("written", ["../secret.txt", "{root}/secret.txt", "sub/../../secret.txt", "/etc/passwd"])
def test_an_import_outside_the_folder_is_refused_without_a_word_of_the_file(project, written):
    main = project / "project" / "main.dlg"
    written = written.format(root=project)
    main.write_text(f'import "{written}"\n{NET}')
    checked = graphdl.check(main)
    d = only(checked, "E014")
    assert d.message == f"cannot import {written}: outside the folders imports are read from"
    assert (d.span.line, d.span.column) == (1, 8) and "allow_outside=True" in d.help
    text = rendered(checked)
    assert "hunter2" not in text and "root:" not in text
    with pytest.raises(ValueError, match="E014"):
        graphdl.load(main)


def test_a_refused_import_says_the_same_whether_the_file_exists_or_not(project):
    main = project / "project" / "main.dlg"
    messages = []
    for name in ("secret.txt", "no_such_file.txt"):
        main.write_text(f'import "../{name}"\n{NET}')
        messages.append(only(graphdl.check(main), "E014").message.replace(name, "NAME"))
    assert messages[0] == messages[1]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_a_link_that_leads_outside_is_outside(project):
    (project / "project" / "innocent.dlg").symlink_to(project / "secret.txt")
    (project / "project" / "main.dlg").write_text(f'import "innocent.dlg"\n{NET}')
    checked = graphdl.check(project / "project" / "main.dlg")
    assert only(checked, "E014") and "hunter2" not in rendered(checked)


def test_allow_outside_reads_a_file_anywhere(project):
    main = project / "project" / "main.dlg"
    main.write_text(f'import "../lib/blocks.dlg"\n{USES_UNIT}')
    assert only(graphdl.check(main), "E014")
    assert graphdl.check(main, allow_outside=True).diagnostics == ()
    assert [layer.name for layer in graphdl.load(main, allow_outside=True).layers] == ["input", "u.fc"]


def test_imports_within_the_checked_files_folder_may_climb_back_with_dotdot(project):
    (project / "project" / "common.dlg").write_text(BLOCK)
    (project / "project" / "nets").mkdir()
    (project / "project" / "nets" / "stage.dlg").write_text('import "../common.dlg"\n')
    main = project / "project" / "main.dlg"
    main.write_text(f'import "nets/stage.dlg"\nimport "common.dlg"\n{USES_UNIT}')
    assert graphdl.check(main).diagnostics == ()


def test_the_search_path_finds_imports_after_the_importing_files_folder(project, monkeypatch):
    monkeypatch.delenv("GRAPHDL_PATH", raising=False)
    main = project / "project" / "main.dlg"
    main.write_text(f'import "blocks.dlg"\n{USES_UNIT}')
    d = only(graphdl.check(main), "E003")
    assert d.message == "cannot import blocks.dlg: No such file or directory"
    checked = graphdl.check(main, search_path=[project / "elsewhere", project / "lib"])
    assert checked.diagnostics == () and str(project / "lib" / "blocks.dlg") in checked.sources
    # From the environment, folders separated as in PATH; an explicit search_path replaces it.
    monkeypatch.setenv("GRAPHDL_PATH", os.pathsep.join([str(project / "elsewhere"), str(project / "lib")]))
    assert graphdl.check(main).diagnostics == ()
    assert only(graphdl.check(main, search_path=[]), "E003")
    # The importing file's own folder comes first.
    (project / "project" / "blocks.dlg").write_text(BLOCK.replace("unit", "local"))
    assert only(graphdl.check(main), "E201").message.startswith("unknown layer kind or block `unit`")


def test_an_editors_unsaved_texts_are_read_in_place_of_the_files_under_the_same_rules(project):
    # What a language server checks: the open files' texts, found where the files are.
    main = project / "project" / "main.dlg"
    text = f'import "blocks.dlg"\n{USES_UNIT}'
    library = str(project / "lib" / "blocks.dlg")
    assert graphdl.check_text(text, path=str(main), search_path=[project / "lib"]).diagnostics == ()
    edited = {library: BLOCK.replace("unit", "renamed")}
    checked = graphdl.check_text(text, path=str(main), search_path=[project / "lib"], editing=edited)
    assert only(checked, "E201").message.startswith("unknown layer kind or block `unit`")
    assert checked.sources[library].text == edited[library]
    # The rules stay: an editor's text outside the allowed folders is refused as its file would be.
    outside = graphdl.check_text('import "../secret.dlg"\n' + NET, path=str(main), editing={str(project / "secret.dlg"): BLOCK})
    assert only(outside, "E014")


def test_a_missing_import_names_every_place_it_was_looked_for(project):
    main = project / "project" / "main.dlg"
    main.write_text(f'import "missing.dlg"\n{NET}')
    d = only(graphdl.check(main, search_path=[project / "lib"]), "E003")
    assert d.label == f"looked for {project / 'project' / 'missing.dlg'}"
    assert d.notes == (f"also looked for {project / 'lib' / 'missing.dlg'}",)


def test_a_file_on_the_search_path_imports_beside_itself_but_not_out_of_it(project):
    (project / "lib" / "stage.dlg").write_text('import "blocks.dlg"\n')
    main = project / "project" / "main.dlg"
    main.write_text(f'import "stage.dlg"\nimport "blocks.dlg"\n{USES_UNIT}')
    assert graphdl.check(main, search_path=[project / "lib"]).diagnostics == ()
    (project / "lib" / "stage.dlg").write_text('import "../secret.txt"\n')
    assert only(graphdl.check(main, search_path=[project / "lib"]), "E014").span.path == str(project / "lib" / "stage.dlg")


def test_a_text_imports_from_the_current_folder(project, monkeypatch):
    monkeypatch.chdir(project / "lib")
    assert graphdl.check_text(f'import "blocks.dlg"\n{USES_UNIT}').diagnostics == ()
    assert graphdl.loads(f'import "blocks.dlg"\n{USES_UNIT}').name == "n"
    assert only(graphdl.check_text(f'import "../secret.txt"\n{NET}'), "E014")
    with pytest.raises(ValueError, match="E014"):
        graphdl.loads(f'import "../secret.txt"\n{NET}')
    assert graphdl.loads(f'import "../project/../lib/blocks.dlg"\n{USES_UNIT}', allow_outside=True).name == "n"


def chain(folder: Path, length: int) -> Path:
    """f0.dlg imports f1.dlg, ... up to f{length}.dlg: `length` imports deep."""
    for i in range(length):
        (folder / f"f{i}.dlg").write_text(f'import "f{i + 1}.dlg"\n' + (NET if i == 0 else ""))
    (folder / f"f{length}.dlg").write_text(BLOCK)
    return folder / "f0.dlg"


def test_imports_nest_at_most_the_limit_deep(tmp_path):
    (tmp_path / "ok").mkdir()
    (tmp_path / "deep").mkdir()
    assert graphdl.check(chain(tmp_path / "ok", LIMITS.import_depth)).diagnostics == ()
    checked = graphdl.check(chain(tmp_path / "deep", LIMITS.import_depth + 1))
    d = only(checked, "E015")
    assert d.message == f"imports nested more than {LIMITS.import_depth} deep"
    assert d.span.path == str(tmp_path / "deep" / f"f{LIMITS.import_depth}.dlg") and d.span.line == 1
    assert d.notes[0].startswith("imported through f0.dlg -> f1.dlg -> ")


def test_an_import_cycle_is_still_a_cycle(tmp_path):
    (tmp_path / "a.dlg").write_text(f'import "b.dlg"\n{NET}')
    (tmp_path / "b.dlg").write_text('import "a.dlg"\n')
    assert only(graphdl.check(tmp_path / "a.dlg"), "E004").message == "import cycle: a.dlg -> b.dlg -> a.dlg"
