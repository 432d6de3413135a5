"""A Windows job object that kills every tone process when this process ends (however it ends).

**Written without Windows; never run.** One job per audiolab process, created on first use with
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE; each tone process is assigned to it right after it starts. The job handle
is never closed by us: the OS closes it when this process exits (normally, by a crash, or by
TerminateProcess), and closing the last handle kills every process in the job, including processes they
started afterwards (a venv's ``python.exe`` launcher starts the real interpreter as its child; a child
started *before* the assignment is not in the job, which is why the tone process also watches our pid
itself, see :mod:`audiolab.audio._player_child_sd`).

If the assignment fails (e.g. we run inside a job that forbids nested jobs or breakaway on old Windows), it
is logged once and the child's own parent watch is what remains.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

log = logging.getLogger("audiolab.wasapi")

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_SET_QUOTA = 0x0100
PROCESS_TERMINATE = 0x0001

_lock = threading.Lock()
_job: Any = None
_warned = False


def _kernel32() -> Any:  # pragma: no cover - Windows only
    if sys.platform != "win32":  # also tells type checkers that what follows is Windows code
        raise OSError("job objects exist on Windows only")
    import ctypes
    from ctypes import wintypes

    k = ctypes.WinDLL("kernel32", use_last_error=True)
    k.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    k.CreateJobObjectW.restype = wintypes.HANDLE
    k.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
    k.SetInformationJobObject.restype = wintypes.BOOL
    k.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    k.OpenProcess.restype = wintypes.HANDLE
    k.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    k.AssignProcessToJobObject.restype = wintypes.BOOL
    k.CloseHandle.argtypes = [wintypes.HANDLE]
    k.CloseHandle.restype = wintypes.BOOL
    return k


def _limit_information() -> Any:  # pragma: no cover - Windows only
    if sys.platform != "win32":  # also tells type checkers that what follows is Windows code
        raise OSError("job objects exist on Windows only")
    import ctypes
    from ctypes import wintypes

    class IO_COUNTERS(ctypes.Structure):
        _fields_ = [(n, ctypes.c_ulonglong) for n in (
            "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
            "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

    class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_longlong),
            ("PerJobUserTimeLimit", ctypes.c_longlong),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
            ("IoInfo", IO_COUNTERS),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    return info


def _the_job(k: Any) -> Any:  # pragma: no cover - Windows only
    if sys.platform != "win32":  # also tells type checkers that what follows is Windows code
        raise OSError("job objects exist on Windows only")
    import ctypes

    global _job
    if _job is None:
        job = k.CreateJobObjectW(None, None)
        if not job:
            raise ctypes.WinError(ctypes.get_last_error())
        info = _limit_information()
        if not k.SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(info),
                                         ctypes.sizeof(info)):
            error = ctypes.WinError(ctypes.get_last_error())
            k.CloseHandle(job)
            raise error
        _job = job  # kept open for the life of this process, on purpose
    return _job


def kill_with_this_process(pid: int) -> bool:
    """Put process ``pid`` in this process's kill-on-close job. True if it was assigned; off Windows, False
    (nothing to do: the Linux child uses PR_SET_PDEATHSIG). Never raises: a failure is logged."""
    global _warned
    if sys.platform != "win32":
        return False
    try:  # pragma: no cover - Windows only
        import ctypes

        k = _kernel32()
        with _lock:
            job = _the_job(k)
        process = k.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not process:
            raise ctypes.WinError(ctypes.get_last_error())
        try:
            if not k.AssignProcessToJobObject(job, process):
                raise ctypes.WinError(ctypes.get_last_error())
        finally:
            k.CloseHandle(process)
        return True
    except OSError as exc:  # pragma: no cover - Windows only
        if not _warned:
            _warned = True
            log.warning("audiolab: could not put tone process %d in a kill-on-close job object (%s); it still "
                        "exits when it sees this process gone", pid, exc)
        return False
