"""Source text, positions in it, and reading files that cannot hang.

Everything that came from a `.dlg` file carries a `Span`, so that any stage of the pipeline can point
at the text that caused a problem. A `Source` keeps the text itself: spans stay small and the
diagnostics renderer asks the source for the line to show.

Files are read by `open_regular`: regular files only, never blocking, within a size limit checked
before reading and kept while reading. `ImportRules` say where `import "..."` may read from.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphdl.limits import LIMITS, Limits, raising


@dataclass(frozen=True)
class Span:
    """A stretch of source text: 1-based line and column of its first character, and of the
    character just after its end (Lark's convention), plus the offsets in the text."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Source:
    """The text of one `.dlg` file and the name to show for it."""

    path: str
    text: str

    @classmethod
    def read(cls, path: str | Path, limit: int = LIMITS.file_bytes) -> Source:
        """The text of the regular file at `path`, of at most `limit` bytes. Raises OSError (a
        `FileTooLarge` over the limit) or UnicodeDecodeError."""
        with open_regular(path, limit) as f:
            data = f.readall()  # to its end, which may lie past the size its stat gave, but not past the limit
        # utf-8-sig: a byte-order mark, as some Windows editors write, is not part of the text.
        return cls(os.fspath(path), data.decode("utf-8-sig"))

    def line(self, number: int) -> str:
        """The text of 1-based line `number`, without its line break ('' past the end)."""
        # Lines end at "\n" only, as `position` counts them (splitlines would also split at \f,
        # \v and Unicode line separators, and shift every line after them).
        lines = self.text.split("\n")
        return lines[number - 1].removesuffix("\r") if 0 < number <= len(lines) else ""

    def span(self, start: int, end: int) -> Span:
        """The span of text offsets [start, end)."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(self.path, line, column, end_line, end_column, start, end)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a text offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column


@dataclass(frozen=True)
class ImportRules:
    """Where `import "..."` reads from: the folder of the file checked (the current folder for a
    text) and the folders of the search path, each with its subfolders. A relative import is
    looked for beside the importing file, then in each folder of the search path in turn; an
    absolute one, or one whose `..` (or a link) leads out of all these folders, is refused unless
    `allow_outside`, so that checking someone else's file cannot read what lies elsewhere."""

    search_path: tuple[str, ...] = ()
    allow_outside: bool = False
    limits: Limits = LIMITS
    # The texts of files open in an editor, by path, read in place of what is saved on disk (an
    # editor's language server checks what is being typed, imports included); found as the files are.
    editing: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, search_path=None, allow_outside: bool = False, editing: Mapping[str, str] | None = None) -> ImportRules:
        """The rules for `search_path` (folders), or the environment's GRAPHDL_PATH (folders
        joined with os.pathsep) where it is None."""
        if search_path is None:
            search_path = os.environ.get("GRAPHDL_PATH", "").split(os.pathsep)
        elif isinstance(search_path, (str, os.PathLike)):  # one folder, not a string's characters
            search_path = [search_path]
        texts = {os.path.normpath(path): text for path, text in (editing or {}).items()}
        return cls(tuple(os.fsdecode(folder) for folder in search_path if os.fspath(folder)), bool(allow_outside), editing=texts)

    def read(self, path: str) -> Source:
        """The file at `path`: the editor's text of it where it is open, else what is on disk."""
        text = self.editing.get(os.path.normpath(path))
        return Source(path, text) if text is not None else Source.read(path, self.limits.file_bytes)

    def locate(self, importing: str, written: str, top: str) -> tuple[str, tuple[str, ...]]:
        """The path that `import "written"` in the file `importing` reads (while checking the file
        `top`), and the other places looked in. Raises ImportOutside where the rules keep it out,
        OSError for a path no file can have."""
        valid_path(written)
        if os.path.isabs(written):
            candidates = [os.path.normpath(written)]
        else:
            folders = [os.path.dirname(importing), *self.search_path]
            candidates = list(dict.fromkeys(os.path.normpath(os.path.join(folder, written)) for folder in folders))
        roots = [os.path.dirname(top) or os.curdir, *self.search_path]
        allowed = [path for path in candidates if self.allow_outside or any(_inside(path, root) for root in roots)]
        if not allowed:
            raise ImportOutside(shown(written))
        found = next((path for path in allowed if os.path.exists(path)), allowed[0])
        return found, tuple(path for path in allowed if path != found)


def _inside(path: str, folder: str) -> bool:
    """Whether `path` lies in `folder` or below, once links and `..` are followed."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # Windows: on different drives
        return False


class FileTooLarge(OSError):
    """A file over its size limit (EFBIG). `limit` is that limit in bytes."""

    # What a diagnostic of a .dlg file or an import over the limit suggests.
    HELP = f"split it into files that import each other ({raising('file_bytes')})"

    def __init__(self, path: str | os.PathLike, limit: int):
        super().__init__(errno.EFBIG, f"larger than the limit of {_bytes(limit)}", os.fspath(path))
        self.limit = limit


class ImportOutside(PermissionError):
    """An import that `ImportRules` keep out: a path outside the folders imports are read from."""

    def __init__(self, path: str):
        super().__init__(errno.EACCES, "outside the folders imports are read from", path)


def shown(path: str | os.PathLike) -> str:
    """A path as a message may show it: control characters (a NUL, a line break, a terminal's
    escape) written as escapes, so that a crafted name cannot break the message or the terminal."""
    text = os.fsdecode(path)
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


def valid_path(path: str) -> str:
    """`path`, or an OSError (EINVAL) where it holds a NUL character, which no file's path can:
    Python's own functions raise ValueError for it, which would escape as a traceback."""
    if "\0" in path:
        raise OSError(errno.EINVAL, "a path cannot hold a NUL character", shown(path))
    return path


def open_regular(path: str | os.PathLike, limit: int) -> io.RawIOBase:
    """The regular file at `path`, opened for reading as a stream that refuses to read past `limit`
    bytes. A FIFO, a device, a socket or a folder is an OSError before it is opened (opening a
    FIFO waits for a writer; some devices act when opened), a file over `limit` a FileTooLarge, a
    path holding a NUL character an OSError (EINVAL) rather than Python's ValueError."""
    path = valid_path(os.fsdecode(os.fspath(path)))
    _check_regular(os.stat(path), path, limit)
    # Non-blocking: if the path was swapped for a FIFO since the stat, opening it does not wait.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    try:
        _check_regular(os.fstat(descriptor), path, limit)  # the file opened, whatever the path names now
        return _Bounded(io.FileIO(descriptor, "rb"), path, limit)
    except BaseException:
        os.close(descriptor)
        raise


def _check_regular(status: os.stat_result, path: str, limit: int) -> None:
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, f"{_KINDS.get(stat.S_IFMT(mode), 'a special file')}, not a regular file", path)
    if status.st_size > limit:
        raise FileTooLarge(path, limit)


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class _Bounded(io.RawIOBase):
    """A file read through a window of its first `limit` bytes: reading or seeking past it raises
    FileTooLarge, so a file that grows while it is read stays within the limit (procfs files even
    report a size of 0). torch.load reads network files through one."""

    def __init__(self, raw: io.FileIO, path: str, limit: int):
        self._raw, self._path, self._limit = raw, path, limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._raw.seek(offset, whence)
        if position > self._limit:
            raise FileTooLarge(self._path, self._limit)
        return position

    def readinto(self, buffer) -> int:
        room = self._limit - self._raw.tell()
        view = memoryview(buffer).cast("B")
        if len(view) > room:  # read one byte more than there is room for: there being one is the error
            count = self._raw.readinto(view[: room + 1])
            if count > room:
                raise FileTooLarge(self._path, self._limit)
            return count
        return self._raw.readinto(view)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _bytes(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count:,} bytes"
