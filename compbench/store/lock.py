"""One process per results folder: whatever writes into a folder (a run from its start to its
end, ``--resume``, ``report``, ``compare`` writing its verdict) holds an exclusive lock on it.

The lock is the operating system's (a POSIX record lock on ``.compbench.lock`` in the folder),
so it dies with its process: a SIGKILL never leaves a stale one. Worker processes forked by
the run do not hold it (POSIX locks are per process). The holder writes its PID into the file,
so a second process is refused with one line naming it (the kernel names the holder when
asked, which is right even in the moment before the holder has written its PID).
"""

from __future__ import annotations

import fcntl
import os
import struct
from contextlib import contextmanager
from pathlib import Path

from ..contracts.errors import CompbenchError

LOCK_NAME = ".compbench.lock"
#: folders this process holds (a POSIX lock cannot refuse its own process a second time)
_HELD: dict[Path, int] = {}


class FolderLock:
    """An exclusive lock on a results folder, held until :meth:`release` (or the process ends)."""

    def __init__(self, folder: Path, fix: str = "choose a writable folder") -> None:
        self.folder = Path(folder).resolve()
        #: what the one-line error of a folder that cannot be locked tells the user to do
        self.fix = fix
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        if self.folder in _HELD:
            raise CompbenchError(f"{self.folder} is already in use by this process; one results folder takes "
                                 "one writer at a time")
        path = self.folder / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CompbenchError(f"cannot lock {self.folder} ({exc.strerror}); {self.fix}") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise CompbenchError(f"{self.folder} is in use by another compbench process (PID {holder}); wait "
                                 "for it to finish or stop it, or choose another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        _HELD[self.folder] = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            _HELD.pop(self.folder, None)
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None

    @contextmanager
    def released_on_error(self):
        """Keep the lock past the block when it succeeds (the caller goes on writing); release
        it when the block raises, so a refused run never holds its folder."""
        try:
            yield self
        except BaseException:
            self.release()
            raise

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


#: struct flock (Linux and the BSDs on 64-bit: l_type, l_whence, l_start, l_len, l_pid, padding)
_FLOCK = "hhqqi4x"


def _holder(fd: int) -> str:
    """The PID of the process holding the lock: the kernel's answer (F_GETLK), else the PID the
    holder wrote (read through the same descriptor: opening the file again and closing it would
    drop a lock this process held). The written PID alone could be a former holder's, read in
    the moment before the new one overwrote it."""
    try:
        found = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
        kind, *_, pid = struct.unpack(_FLOCK, found)
        if kind != fcntl.F_UNLCK and pid > 0:
            return str(pid)
    except (OSError, struct.error):
        pass
    try:
        return os.pread(fd, 32, 0).decode().strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def locked(folder: Path, fix: str = "choose a writable folder"):
    """Hold the folder's lock for the block (``fix``: see :class:`FolderLock`)."""
    with FolderLock(folder, fix) as lock:
        yield lock
