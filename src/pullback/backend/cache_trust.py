"""Who may write the disk cache: its owner only.

The cache holds code that pullback runs: its modules are imported and their
marshalled code objects loaded. A file someone else could write would be
code run as the user, so nothing is read from the cache unless

- the directory is a real directory (not a symlink) owned by the user and
  not group- or world-writable;
- the file is a regular file (opened without following a symlink, checked
  on the open descriptor, not by name before opening), owned by the user and
  not group- or world-writable;
- the file carries an HMAC-SHA256 of its contents made with the directory's
  secret key, ``<directory>/.key``: 32 random bytes in a file of the user's,
  readable by the user alone (mode 0600). A file written without the key
  (planted, copied from elsewhere, or with a forged plain checksum) fails
  the check and is treated as missing.

Where the platform has no user ids (Windows), ownership and mode bits are not
checked: the directory is under the user's profile. Symlinks and the HMAC
still are.
"""
import errno
import hmac
import os
import stat
import tempfile

KEY_NAME = ".key"
KEY_BYTES = 32

# Open for reading, without following a symlink in the last component, and
# without blocking on a planted FIFO (it then fails the regular-file check).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# What opening a symlink with O_NOFOLLOW fails with (EMLINK on FreeBSD).
_LINK_ERRORS = {getattr(errno, name) for name in ("ELOOP", "EMLINK") if hasattr(errno, name)}
_READ_FLAGS = (os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class Untrusted(Exception):
    """A cache directory or file someone other than the user could have
    written. ``fix`` says what the user can do about it."""

    def __init__(self, reason, fix):
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def _owner():
    """The effective user id, or None where the platform has none (Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _check_owned(info, what, fix, private_mask=0o022, fix_owner=None):
    """Raise Untrusted unless ``info`` (a stat result) is the user's and has
    none of the ``private_mask`` mode bits (write by group or others).
    ``fix``, ``fix_owner``: the advice for loose mode bits, another owner."""
    uid = _owner()
    if uid is None:
        return
    if info.st_uid != uid:
        raise Untrusted(f"{what} is owned by user id {info.st_uid}, not by you ({uid})",
                        fix_owner or fix)
    loose = stat.S_IMODE(info.st_mode) & private_mask
    if loose:
        who = " and ".join(w for w, bits in (("its group", 0o070), ("other users", 0o007))
                           if loose & bits)
        access = "written" if not private_mask & 0o044 else "read or written"
        raise Untrusted(f"{what} can be {access} by {who} "
                        f"(mode {stat.S_IMODE(info.st_mode):04o})", fix)


def check_directory(path):
    """Raise Untrusted unless ``path`` is a real directory of the user's that
    only the user can write (OSError if it does not exist)."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise Untrusted(f"it is a symbolic link (to {os.readlink(path)!r})",
                        "set PULLBACK_CACHE_DIR to a real directory of your own")
    if not stat.S_ISDIR(info.st_mode):
        raise Untrusted("it is not a directory", "remove it")
    _check_owned(info, "it", f"run chmod 700 {str(path)!r}, or set PULLBACK_CACHE_DIR to a "
                             f"directory of your own",
                 fix_owner="set PULLBACK_CACHE_DIR to a directory of your own")


def make_private_directory(path):
    """Create ``path`` and each missing parent with mode 0700 (whatever the
    umask: a parent someone else can write lets them swap the directory);
    an existing one is left as it is, and checked by :func:`check_directory`."""
    path, missing = os.fspath(path), []
    while path and not os.path.lexists(path):          # "" above a relative path
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass            # made by another process meanwhile: checked like any other


def read_private(path, private_mask=0o022, part=None):
    """The bytes of the regular file ``path``, checked on the open descriptor:
    not a symlink, the user's, none of ``private_mask``'s mode bits. Raises
    Untrusted or OSError. ``part``: only the first ``part`` bytes, or the
    last ``-part`` if it is negative (cache care reads a module's last lines)."""
    name = os.path.basename(path)
    if not _NOFOLLOW and os.path.islink(path):
        # No O_NOFOLLOW (Windows): check the name first, the best there is.
        raise Untrusted(f"{name} is a symbolic link", "remove it")
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as error:
        if error.errno in _LINK_ERRORS and os.path.islink(path):
            raise Untrusted(f"{name} is a symbolic link", "remove it") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Untrusted(f"{name} is not a regular file", "remove it")
        _check_owned(info, name, "remove it", private_mask)
        if part is not None:
            if part < 0:
                os.lseek(fd, max(0, info.st_size + part), os.SEEK_SET)
            return os.read(fd, abs(part))
        chunks = []
        while True:
            chunk = os.read(fd, info.st_size + 1 if not chunks else 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def is_private(info):
    """Whether ``info`` (an lstat result) is a regular file of the user's that
    no one else can write: one pullback may have written (and may delete)."""
    if not stat.S_ISREG(info.st_mode):
        return False
    try:
        _check_owned(info, "the file", "")
    except Untrusted:
        return False
    return True


def directory_key(directory, create=False):
    """The secret key of the cache ``directory``, after checking the
    directory and the key file; ``create``: make the key if there is none.

    Raises Untrusted if either is not the user's alone, OSError (e.g.
    FileNotFoundError) if there is no key and ``create`` is false, or the
    directory cannot be read.
    """
    directory = os.fspath(directory)
    check_directory(directory)
    key_path = os.path.join(directory, KEY_NAME)
    fix = (f"delete {key_path!r} (pullback makes a new key and regenerates its modules), "
           f"or set PULLBACK_CACHE_DIR to a directory of your own")
    try:
        key = read_private(key_path, private_mask=0o077)
    except FileNotFoundError:
        if not create:
            raise
        key = _create_key(directory, key_path)
    except Untrusted as error:
        raise Untrusted(f"its key file: {error.reason}", fix) from None
    if len(key) != KEY_BYTES:
        raise Untrusted(f"its key file {KEY_NAME} holds {len(key)} bytes, not {KEY_BYTES}", fix)
    return key


def _create_key(directory, key_path):
    """Write a new random key under ``key_path``, exclusively: it is written
    whole into a new file (O_CREAT|O_EXCL, mode 0600, by mkstemp), then
    hard-linked to its name, which fails if another process made its key
    first; either way every process ends up reading the same complete key."""
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".key-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, key_path)
        except FileExistsError:
            pass
        except OSError:
            # A file system without hard links: create the name exclusively
            # and write into it (a reader racing this sees a short key and
            # does not trust the directory, for this once).
            try:
                out = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                              | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0), 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(out, "wb") as handle:
                    with open(temp, "rb") as source:
                        handle.write(source.read())
                    handle.flush()
                    os.fsync(handle.fileno())
    finally:
        try:
            os.unlink(temp)
        except OSError:
            pass
    return read_private(key_path, private_mask=0o077)


def sign(key, label, *parts):
    """HMAC-SHA256 of ``parts`` (bytes), under ``key``, for a ``label``
    (what the parts are: a module's text, a compiled payload)."""
    message = b"".join([label.encode(), b"\0"]
                       + [len(part).to_bytes(8, "little") + part for part in parts])
    return hmac.digest(key, message, "sha256")


def same(a, b):
    """Compare two HMACs in constant time."""
    return hmac.compare_digest(a, b)
