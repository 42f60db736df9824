"""``--reload``: a thread in each worker that watches source files, as gunicorn's reloader.

The watched set is the files of ``sys.modules`` plus ``reload_extra_files``; entries
holding ``*``, ``?`` or ``[`` are glob patterns expanded again on every check, so a file
created after boot is watched from its first edit (gunicorn 26.1). The poll engine
stats every file once a second; the inotify engine (only with the ``inotify`` package)
watches their directories. Either calls ``callback(filename)`` on a change; the worker
then asks Go to replace it (RECYCLE) and finishes what it holds.

Texts follow gunicorn/reloader.py so the messages read the same.
"""

import glob
import os
import os.path
import re
import sys
import threading
import time

COMPILED_EXT_RE = re.compile(r"py[co]$")
GLOB_MAGIC_RE = re.compile(r"[*?[]")


def is_glob_pattern(value):
    return GLOB_MAGIC_RE.search(value) is not None


def symlink_target_dir(filename):
    """The directory of a symlink's target: edits there make no event in the link's."""
    if not os.path.islink(filename):
        return None
    return os.path.dirname(os.path.realpath(filename))


class ReloaderBase(threading.Thread):
    def __init__(self, extra_files=None, interval=1, callback=None):
        super().__init__(name="gonicorn-reloader")
        self.daemon = True
        self._extra_files = set()
        self._extra_patterns = set()
        for entry in extra_files or ():
            if is_glob_pattern(entry):
                self._extra_patterns.add(entry)
            else:
                self._extra_files.add(entry)
        self._interval = interval
        self._callback = callback
        # Set by the worker once it asked for its replacement: nothing left to watch.
        self.stopped = False

    def add_extra_file(self, filename):
        self._extra_files.add(filename)

    def get_files(self):
        fnames = [
            COMPILED_EXT_RE.sub("py", module.__file__)
            for module in tuple(sys.modules.values())
            if isinstance(getattr(module, "__file__", None), str)
        ]
        fnames.extend(self._extra_files)
        for pattern in self._extra_patterns:
            fnames.extend(sorted(glob.glob(pattern, recursive=True)))
        return fnames


class Reloader(ReloaderBase):
    """The poll engine: one stat per file per interval; a file is compared with the
    mtime it had when first seen, so a module imported late does not count as changed."""

    def run(self):
        mtimes = {}
        while not self.stopped:
            for filename in self.get_files():
                try:
                    mtime = os.stat(filename).st_mtime
                except OSError:
                    continue
                old_time = mtimes.get(filename)
                if old_time is None:
                    mtimes[filename] = mtime
                    continue
                if mtime > old_time:
                    if self._callback and not self.stopped:
                        self._callback(filename)
            time.sleep(self._interval)


has_inotify = False
if sys.platform.startswith("linux"):
    try:
        from inotify.adapters import Inotify
        import inotify.constants
        has_inotify = True
    except ImportError:
        pass


if has_inotify:

    class InotifyReloader(ReloaderBase):
        event_mask = (inotify.constants.IN_CREATE | inotify.constants.IN_DELETE
                      | inotify.constants.IN_DELETE_SELF | inotify.constants.IN_MODIFY
                      | inotify.constants.IN_MOVE_SELF | inotify.constants.IN_MOVED_FROM
                      | inotify.constants.IN_MOVED_TO)

        def __init__(self, extra_files=None, callback=None):
            super().__init__(extra_files=extra_files, callback=callback)
            self._dirs = set()
            self._watcher = Inotify()

        def add_extra_file(self, filename):
            super().add_extra_file(filename)
            for dirname in (os.path.dirname(filename) or ".", symlink_target_dir(filename)):
                if dirname is None or dirname in self._dirs:
                    continue
                self._watcher.add_watch(dirname, mask=self.event_mask)
                self._dirs.add(dirname)

        def get_dirs(self):
            dirnames = set()
            for fname in self.get_files():
                dirnames.add(os.path.dirname(os.path.abspath(fname)))
                target_dir = symlink_target_dir(fname)
                if target_dir is not None:
                    dirnames.add(target_dir)
            return dirnames

        def refresh_dirs(self):
            new_dirs = self.get_dirs().difference(self._dirs)
            self._dirs.update(new_dirs)
            for new_dir in new_dirs:
                if os.path.isdir(new_dir):
                    self._watcher.add_watch(new_dir, mask=self.event_mask)

        def run(self):
            self.refresh_dirs()
            for event in self._watcher.event_gen():
                if self.stopped:
                    return
                if event is None:
                    self.refresh_dirs()
                    continue
                # gunicorn reports the bare name from the event (event[3]).
                self._callback(event[3])

else:

    class InotifyReloader:
        def __init__(self, extra_files=None, callback=None):
            raise ImportError("You must have the inotify module installed to "
                              "use the inotify reloader")


preferred_reloader = InotifyReloader if has_inotify else Reloader

reloader_engines = {
    "auto": preferred_reloader,
    "poll": Reloader,
    "inotify": InotifyReloader,
}
