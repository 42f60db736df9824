"""gunicorn-compatible error log for the Python side (zygote and workers).

Lines look like gunicorn's: ``[%Y-%m-%d %H:%M:%S %z] [pid] [LEVEL] message`` on the
``gunicorn.error`` logger (propagate off), to stderr for ``errorlog='-'`` or appended to
the file. The root logger is left alone, as gunicorn does, so an app's own
``logging.warning()`` reaches stderr through Python's last-resort handler unless the
app or ``logconfig*`` configures it. The access log is written by Go, not here.

With ``statsd_host`` set the logger also plays gunicorn's ``Statsd`` logger
(gunicorn/instrument/statsd.py) for this process: critical/error/warning/exception
calls send ``gunicorn.log.<level>`` counters, ``extra={"metric", "value", "mtype"}``
sends that metric, and hooks may call ``gauge``/``increment``/``decrement``/
``timer``/``histogram``. The datagrams are byte for byte gunicorn's; the request
metrics and ``gunicorn.workers`` come from the Go master (internal/statsd). Unlike
gunicorn, the socket is non-blocking and a failed send is dropped silently: a StatsD
agent that is down or slow must not stall or flood the workers.
"""

import io
import json
import logging
import logging.config
import logging.handlers
import os
import re
import socket
import sys
import threading

ERROR_FMT = r"%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
DATEFMT = r"[%Y-%m-%d %H:%M:%S %z]"

LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}

SYSLOG_FACILITIES = {
    "auth": 4, "authpriv": 10, "cron": 9, "daemon": 3, "ftp": 11, "kern": 0,
    "lpr": 6, "mail": 2, "news": 7, "security": 4, "syslog": 5, "user": 1, "uucp": 8,
    "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20,
    "local5": 21, "local6": 22, "local7": 23,
}

# Same shape as gunicorn's glogging.CONFIG_DEFAULTS: logconfig_dict is merged over it.
CONFIG_DEFAULTS = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"],
                           "propagate": True, "qualname": "gunicorn.error"},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"],
                            "propagate": True, "qualname": "gunicorn.access"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "generic",
                    "stream": "ext://sys.stdout"},
        "error_console": {"class": "logging.StreamHandler", "formatter": "generic",
                          "stream": "ext://sys.stderr"},
    },
    "formatters": {
        "generic": {"format": ERROR_FMT, "datefmt": DATEFMT, "class": "logging.Formatter"},
    },
}


def _get(cfg, name, default=None):
    return getattr(cfg, name, default) if cfg is not None else default


def statsd_prefix(prefix):
    """gunicorn's rule: trailing dots collapse into one added dot ("app" -> "app.")."""
    return re.sub(r"^(.+[^.]+)\.*$", "\\g<1>.", prefix or "")


def parse_statsd_address(val):
    """(family, sockaddr) for a statsd_host value, as gunicorn's validator and
    util.parse_address read it (default port 8125, "unix:NNN" is the host "unix")."""
    m = re.match(r"^unix:(\d+)$", val)
    if m:
        return _resolve("unix", int(m.group(1)))
    if re.match(r"unix:(//)?", val):
        return socket.AF_UNIX, re.split(r"unix:(//)?", val)[-1]
    if val.startswith("tcp://"):
        val = val.split("tcp://")[1]
    host, port = val, "8125"
    if "[" in val and "]" in val:
        host = val.split("]")[0][1:]
        port = (val.split("]:") + ["8125"])[1]
    elif ":" in val:
        host, port = (val.split(":") + ["8125"])[:2]
    elif val == "":
        host = "0.0.0.0"
    return _resolve(host.lower(), int(port))


def _resolve(host, port):
    if not 0 <= port <= 65535:
        # getaddrinfo would wrap it; the Go master refuses it and sends nothing either.
        raise ValueError("port %d out of range" % port)
    # IPv4 first, like gunicorn's AF_INET socket and the Go master's client.
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    infos.sort(key=lambda i: i[0] != socket.AF_INET)
    return infos[0][0], infos[0][4]


class Logger:
    """The ``log`` object hooks see as ``server.log`` / ``worker.log``."""

    LOG_LEVELS = LOG_LEVELS
    error_fmt = ERROR_FMT
    datefmt = DATEFMT

    def __init__(self, cfg=None):
        self.error_log = logging.getLogger("gunicorn.error")
        self.error_log.propagate = False
        self.access_log = logging.getLogger("gunicorn.access")
        self.access_log.propagate = False
        self.logfile = None
        self.lock = threading.Lock()
        self.cfg = cfg
        self.sock = None
        self.prefix = ""
        self.dogstatsd_tags = ""
        self.setup(cfg)

    def setup(self, cfg):
        self.cfg = cfg
        self.loglevel = LOG_LEVELS.get(str(_get(cfg, "loglevel", "info")).lower(), logging.INFO)
        self.error_log.setLevel(self.loglevel)
        self.access_log.setLevel(logging.INFO)
        self._setup_statsd(cfg)
        for log in (self.error_log, self.access_log):
            for h in list(log.handlers):
                if getattr(h, "_gunicorn", False):
                    log.removeHandler(h)
                    h.close()

        errorlog = _get(cfg, "errorlog", "-")
        if _get(cfg, "capture_output", False) and errorlog not in (None, "-"):
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            self.logfile = open(errorlog, "a+")
            os.dup2(self.logfile.fileno(), sys.stdout.fileno())
            os.dup2(self.logfile.fileno(), sys.stderr.fileno())

        self._set_handler(self.error_log, errorlog,
                          logging.Formatter(self.error_fmt, self.datefmt))

        if _get(cfg, "syslog", False):
            self._set_syslog_handler(self.error_log, cfg, "error")

        if _get(cfg, "logconfig_dict", None):
            config = dict(CONFIG_DEFAULTS)
            config.update(cfg.logconfig_dict)
            try:
                logging.config.dictConfig(config)
            except (AttributeError, ImportError, ValueError, TypeError) as exc:
                raise RuntimeError(str(exc)) from exc
        elif _get(cfg, "logconfig_json", None):
            config = dict(CONFIG_DEFAULTS)
            if os.path.exists(cfg.logconfig_json):
                try:
                    with open(cfg.logconfig_json) as f:
                        config.update(json.load(f))
                    logging.config.dictConfig(config)
                except (json.JSONDecodeError, AttributeError, ImportError,
                        ValueError, TypeError) as exc:
                    raise RuntimeError(str(exc)) from exc
        elif _get(cfg, "logconfig", None):
            if os.path.exists(cfg.logconfig):
                defaults = dict(CONFIG_DEFAULTS)
                defaults["__file__"] = cfg.logconfig
                defaults["here"] = os.path.dirname(cfg.logconfig)
                logging.config.fileConfig(cfg.logconfig, defaults=defaults,
                                          disable_existing_loggers=False)
            else:
                raise RuntimeError("Error: log config '%s' not found" % cfg.logconfig)

    def _setup_statsd(self, cfg):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        host = _get(cfg, "statsd_host")
        if host is None:
            return
        self.prefix = statsd_prefix(_get(cfg, "statsd_prefix", ""))
        self.dogstatsd_tags = _get(cfg, "dogstatsd_tags", "") or ""
        try:
            family, addr = parse_statsd_address(str(host))
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except (OSError, ValueError, IndexError):
            return  # the Go master reports an unusable target; gunicorn sends nothing
        try:
            sock.setblocking(False)
            sock.connect(addr)
        except OSError:
            sock.close()
            return
        self.sock = sock

    def _set_handler(self, log, output, fmt):
        if output is None:
            return
        if output == "-":
            h = logging.StreamHandler()
        else:
            h = logging.FileHandler(output)
        h.setFormatter(fmt)
        h._gunicorn = True
        log.addHandler(h)

    def _set_syslog_handler(self, log, cfg, name):
        prefix = _get(cfg, "syslog_prefix") or str(_get(cfg, "proc_name") or "gunicorn").replace(":", ".")
        fmt = logging.Formatter("gunicorn.%s.%s: [%%(process)d] %%(message)s" % (prefix, name))
        try:
            facility = SYSLOG_FACILITIES[str(_get(cfg, "syslog_facility", "user")).lower()]
        except KeyError as exc:
            raise RuntimeError("unknown facility name") from exc
        socktype, addr = parse_syslog_address(_get(cfg, "syslog_addr", "udp://localhost:514"))
        h = logging.handlers.SysLogHandler(address=addr, facility=facility, socktype=socktype)
        h.setFormatter(fmt)
        h._gunicorn = True
        log.addHandler(h)

    # gunicorn's Logger API, used by hooks. With statsd on, the counted
    # levels send gunicorn.log.<level> whatever loglevel filters, as Statsd does.
    def critical(self, msg, *args, **kwargs):
        self.error_log.critical(msg, *args, **kwargs)
        if self.sock is not None:
            self.increment("gunicorn.log.critical", 1)

    def error(self, msg, *args, **kwargs):
        self.error_log.error(msg, *args, **kwargs)
        if self.sock is not None:
            self.increment("gunicorn.log.error", 1)

    def warning(self, msg, *args, **kwargs):
        self.error_log.warning(msg, *args, **kwargs)
        if self.sock is not None:
            self.increment("gunicorn.log.warning", 1)

    def info(self, msg, *args, **kwargs):
        self.log(logging.INFO, msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        self.error_log.exception(msg, *args, **kwargs)
        if self.sock is not None:
            self.increment("gunicorn.log.exception", 1)

    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = LOG_LEVELS.get(lvl.lower(), logging.INFO)
        extra = kwargs.get("extra")
        if self.sock is not None and isinstance(extra, dict):
            # Statsd.log: extra={"metric": name, "value": v, "mtype": type}.
            metric, value, typ = extra.get("metric"), extra.get("value"), extra.get("mtype")
            if metric and value is not None and typ:
                send = {"gauge": self.gauge, "counter": self.increment,
                        "histogram": self.histogram, "timer": self.timer}.get(typ)
                if send is not None:
                    send(metric, value)
            if not msg:
                return  # Statsd logs only when there is something to say
        self.error_log.log(lvl, msg, *args, **kwargs)

    # gunicorn's Statsd methods; hooks may call them. No-ops with statsd off.
    def gauge(self, name, value):
        self._sock_send("{0}{1}:{2}|g".format(self.prefix, name, value))

    def increment(self, name, value, sampling_rate=1.0):
        self._sock_send("{0}{1}:{2}|c|@{3}".format(self.prefix, name, value, sampling_rate))

    def decrement(self, name, value, sampling_rate=1.0):
        self._sock_send("{0}{1}:-{2}|c|@{3}".format(self.prefix, name, value, sampling_rate))

    def timer(self, name, value):
        self._sock_send("{0}{1}:{2}|ms".format(self.prefix, name, value))

    def histogram(self, name, value):
        self._sock_send("{0}{1}:{2}|h".format(self.prefix, name, value))

    def _sock_send(self, msg):
        sock = self.sock
        if sock is None:
            return
        data = msg.encode("utf-8")
        if self.dogstatsd_tags:
            data += b"|#" + self.dogstatsd_tags.encode("utf-8")
        try:
            sock.send(data)
        except OSError:
            pass  # full buffer or no agent: drop it, never block or log per request

    def access(self, resp, req, environ, request_time):
        """Go writes the access log; kept so hooks calling it do not break."""

    def reopen_files(self):
        errorlog = _get(self.cfg, "errorlog", "-")
        if _get(self.cfg, "capture_output", False) and errorlog not in (None, "-"):
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            with self.lock:
                if self.logfile is not None:
                    self.logfile.close()
                self.logfile = open(errorlog, "a+")
                os.dup2(self.logfile.fileno(), sys.stdout.fileno())
                os.dup2(self.logfile.fileno(), sys.stderr.fileno())
        for log in [logging.root] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]:
            for handler in getattr(log, "handlers", ()):
                if isinstance(handler, logging.FileHandler):
                    handler.acquire()
                    try:
                        if handler.stream:
                            handler.close()
                            handler.stream = handler._open()
                    finally:
                        handler.release()

    reopen = reopen_files

    def close_on_exec(self):
        """No-op: the runtime never execs workers."""


def parse_syslog_address(addr):
    """Same forms as gunicorn: unix://PATH[#dgram|#stream], udp://H:P, tcp://H:P."""
    if addr.startswith("unix://"):
        sock_type = None
        parts = addr.split("#", 1)
        if len(parts) == 2:
            if parts[1] == "dgram":
                sock_type = socket.SOCK_DGRAM
            elif parts[1] == "stream":
                sock_type = socket.SOCK_STREAM
            else:
                raise RuntimeError("Invalid socket type: %s" % parts[1])
        return sock_type, parts[0][len("unix://"):]
    if addr.startswith("udp://"):
        addr, socktype = addr[len("udp://"):], socket.SOCK_DGRAM
    elif addr.startswith("tcp://"):
        addr, socktype = addr[len("tcp://"):], socket.SOCK_STREAM
    else:
        raise RuntimeError("invalid syslog address: %s" % addr)
    port = 514
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif ":" in addr:
        host, _, p = addr.rpartition(":")
        port = int(p)
    else:
        host = addr
    return socktype, (host or "localhost", port)


class WSGIErrors(io.RawIOBase):
    """``wsgi.errors``: text written here goes to the error log's streams, unformatted."""

    def __init__(self, cfg=None):
        errorlog = _get(cfg, "errorlog", "-")
        handlers = logging.getLogger("gunicorn.error").handlers
        self.streams = []
        if errorlog == "-":
            self.streams.append(sys.stderr)
            handlers = handlers[1:]
        for h in handlers:
            stream = getattr(h, "stream", None)
            if stream is not None:
                self.streams.append(stream)

    def writable(self):
        return True

    def write(self, data):
        for stream in self.streams:
            try:
                stream.write(data)
            except (UnicodeError, TypeError):
                if isinstance(data, str):
                    stream.write(data.encode("utf-8"))
                else:
                    stream.write(data.decode("utf-8", "replace"))
            stream.flush()
        return len(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        for stream in self.streams:
            stream.flush()
