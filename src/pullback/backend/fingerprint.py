"""The hash of pullback's own code in the disk cache key, remembered.

Hashing every module's bytes costs a new process a read of ~150 files. The
answer is remembered in the cache directory (``fingerprints``), under a
signature of the files' paths, sizes, modification times and inodes: the
next process asks the file system for those (one ``stat`` each) and reads
nothing else. Any edit changes a signature, and the bytes are hashed again.
"""
import hashlib
import os

from pullback._version import __version__

_MEMO = "fingerprints"
_KEPT = 32          # signatures remembered (other checkouts, other versions)


def module_files(folder):
    """``[(path parts relative to folder, path)]`` of every module under ``folder``, sorted."""
    modules = []
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if name != "__pycache__"]
        relative = os.path.relpath(root, folder)
        parts = () if relative == "." else tuple(relative.split(os.sep))
        modules += [(parts + (name,), os.path.join(root, name)) for name in names
                    if name.endswith(".py")]
    return sorted(modules)


def content_fingerprint(modules):
    """A hash of the version and of every module's relative path and bytes."""
    digest = hashlib.sha256(__version__.encode())
    for parts, path in modules:
        digest.update("/".join(parts).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def signature(modules):
    """A hash of what the file system says of each module: path, size, mtime, inode."""
    digest = hashlib.sha256(__version__.encode())
    for parts, path in modules:
        status = os.stat(path)
        digest.update(f"{'/'.join(parts)}\0{status.st_size}\0{status.st_mtime_ns}\0"
                      f"{status.st_ino}\n".encode())
    return digest.hexdigest()


def remembered_fingerprint(folder, directory, write):
    """``content_fingerprint`` of ``folder``'s modules, read from the memo in
    ``directory`` (the user's private cache directory, or None) when the files'
    signature is there; else computed and added with ``write(path, text)``."""
    modules = module_files(folder)
    if directory is None:
        return content_fingerprint(modules)
    key = signature(modules)
    memo = os.path.join(directory, _MEMO)
    try:
        with open(memo, encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return parts[1]
    found = content_fingerprint(modules)
    kept = [line for line in lines if len(line.split()) == 2][-(_KEPT - 1):]
    try:
        write(memo, "\n".join(kept + [f"{key} {found}"]) + "\n")
    except OSError:
        pass            # a read-only cache: hashed again next time
    return found
