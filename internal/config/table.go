package config

// Type is the kind of value a setting holds after validation.
type Type string

// Setting value kinds. They name the Go type that Value returns: bool,
// int, float64, string (nil when unset), []string, map[string]any, and for
// hooks and classes either a string or a Callable.
const (
	TypeBool   Type = "bool"
	TypeInt    Type = "int"
	TypeFloat  Type = "float"
	TypeString Type = "string"
	TypeList   Type = "list"
	TypeDict   Type = "dict"
	TypeHook   Type = "hook"
	TypeClass  Type = "class"
)

// Action is how a CLI flag stores its value, as argparse actions do.
type Action int

// argparse actions used by gunicorn's parser.
const (
	ActStore      Action = iota // --flag VALUE
	ActStoreTrue                // --flag sets True
	ActStoreConst               // --flag sets Const
	ActAppend                   // repeatable --flag VALUE, collected into a list
	ActOptional                 // --flag [VALUE]: bare flag means Const
)

// Status says whether gonicorn acts on a setting yet.
type Status string

// Statuses. A NotYet setting is accepted and validated, and Warnings
// reports it when the user sets it.
const (
	Implemented Status = "implemented"
	NotYet      Status = "not-yet"
)

// Setting declares one setting. Table holds every one of them; the CLI
// parser, the config-file and GUNICORN_CMD_ARGS handling, --print-config,
// JSON and docs/settings.md are all derived from it.
type Setting struct {
	Name    string
	Section string
	Flags   []string // CLI option strings; none means config file only
	Meta    string   // metavar in --help; argparse uses the upper-cased name when empty
	Action  Action
	Const   any                       // value for ActStoreConst and a bare ActOptional flag
	Conv    func(string) (any, error) // argparse type= conversion of CLI strings; nil = str
	Type    Type
	// Default is the raw default, passed through Validate like any other
	// value (gunicorn sets defaults through the validator too).
	Default any
	// DefaultFunc, when set, computes the raw default from the environment
	// and the working directory and replaces Default.
	DefaultFunc func(env map[string]string, cwd string) (any, error)
	Env         string // environment variable the default comes from (docs)
	DefaultDoc  string // default as shown in docs when Default is not literal
	HookDefault string // how --print-config shows gunicorn's built-in hook
	Validate    func(v any) (any, error)
	Doc         string
	Status      Status
	// GonicornOnly marks settings gunicorn does not have.
	GonicornOnly bool
	Since        string // gunicorn version that added it, when newer than the reference
}

// Table returns every setting in declaration order (gunicorn's order,
// then the gonicorn-only ones). Callers must not modify the entries.
func Table() []*Setting { return table }

// Lookup returns the setting called name, or nil.
func Lookup(name string) *Setting { return byName[name] }

var byName = func() map[string]*Setting {
	m := make(map[string]*Setting, len(table))
	for _, s := range table {
		m[s.Name] = s
	}
	return m
}()

var table = []*Setting{
	{Name: "config", Section: "Config File", Flags: []string{"-c", "--config"}, Meta: "CONFIG", Type: TypeString, Default: "./gunicorn.conf.py", Validate: vString, Status: Implemented, Doc: "Config source: PATH, file:PATH or python:MODULE; default file used only if it exists in cwd"},
	{Name: "wsgi_app", Section: "Config File", Meta: "STRING", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "App URI (module:var or module:factory(args)) when not given positionally; no CLI flag"},
	{Name: "bind", Section: "Server Socket", Flags: []string{"-b", "--bind"}, Meta: "ADDRESS", Action: ActAppend, Type: TypeList, Default: []string{"127.0.0.1:8000"}, DefaultFunc: defBind, Env: "PORT", Validate: vListString, Status: Implemented, Doc: "Listen address(es): HOST, HOST:PORT, [v6]:PORT, unix:PATH, fd://N; repeatable; default 0.0.0.0:$PORT if PORT env set"},
	{Name: "backlog", Section: "Server Socket", Flags: []string{"--backlog"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 2048, Validate: vPosInt, Status: Implemented, Doc: "listen() backlog"},
	{Name: "workers", Section: "Worker Processes", Flags: []string{"-w", "--workers"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 1, DefaultFunc: defWorkers, Env: "WEB_CONCURRENCY", Validate: vPosInt, Status: Implemented, Doc: "Number of worker processes; default taken from WEB_CONCURRENCY env if set"},
	{Name: "worker_class", Section: "Worker Processes", Flags: []string{"-k", "--worker-class"}, Meta: "STRING", Type: TypeClass, Default: "sync", Validate: vClass, Status: Implemented, Doc: "Worker type: short name, dotted class path, egg:DIST#NAME, or a class object (config file)"},
	{Name: "threads", Section: "Worker Processes", Flags: []string{"--threads"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 1, Validate: vPosInt, Status: Implemented, Doc: "Thread-pool size per worker (gthread); >1 with sync silently switches to gthread"},
	{Name: "worker_connections", Section: "Worker Processes", Flags: []string{"--worker-connections"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 1000, Validate: vPosInt, Status: Implemented, Doc: "Max simultaneous connections per worker (gthread/gevent; asgi reads it but does not enforce it)"},
	{Name: "max_requests", Section: "Worker Processes", Flags: []string{"--max-requests"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 0, Validate: vPosInt, Status: Implemented, Doc: "Recycle a worker after N requests (0 = never)"},
	{Name: "max_requests_jitter", Section: "Worker Processes", Flags: []string{"--max-requests-jitter"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 0, Validate: vPosInt, Status: Implemented, Doc: "Adds randint(0, J) to max_requests per worker to stagger restarts"},
	{Name: "timeout", Section: "Worker Processes", Flags: []string{"-t", "--timeout"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 30, Validate: vPosInt, Status: Implemented, Doc: "Heartbeat timeout: master aborts (SIGABRT, then SIGKILL) workers silent longer than this; 0 disables"},
	{Name: "graceful_timeout", Section: "Worker Processes", Flags: []string{"--graceful-timeout"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 30, Validate: vPosInt, Status: Implemented, Doc: "Seconds workers get to finish after a graceful stop/restart before SIGKILL"},
	{Name: "keepalive", Section: "Worker Processes", Flags: []string{"--keep-alive"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 2, Validate: vPosInt, Status: Implemented, Doc: "Idle keep-alive wait in seconds: an idle connection closes within 10 ms after it (every worker class, sync included: the Go front holds connections)"},
	{Name: "limit_request_line", Section: "Security", Flags: []string{"--limit-request-line"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 4094, Validate: vPosInt, Status: Implemented, Doc: "Max request-line bytes; 0 = unlimited; values >= 8190 are clamped to 8190"},
	{Name: "limit_request_fields", Section: "Security", Flags: []string{"--limit-request-fields"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 100, Validate: vPosInt, Status: Implemented, Doc: "Max header count; <=0 or >32768 means 32768"},
	{Name: "limit_request_field_size", Section: "Security", Flags: []string{"--limit-request-field_size"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 8190, Validate: vPosInt, Status: Implemented, Doc: "Max bytes per header line; docs say 0 = unlimited but code maps 0 to 8190"},
	{Name: "reload", Section: "Debugging", Flags: []string{"--reload"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Dev reloader: worker exits on source change (poll or inotify); incompatible with preload"},
	{Name: "reload_engine", Section: "Debugging", Flags: []string{"--reload-engine"}, Meta: "STRING", Type: TypeString, Default: "auto", Validate: vReloadEngine, Status: Implemented, Doc: "auto | poll | inotify"},
	{Name: "reload_extra_files", Section: "Debugging", Flags: []string{"--reload-extra-file"}, Meta: "FILES", Action: ActAppend, Type: TypeList, Default: []string{}, Validate: vFilesOrPatterns, Status: Implemented, Doc: "Extra files/glob patterns to watch (globs re-expanded each check since 26.1.0)"},
	{Name: "spew", Section: "Debugging", Flags: []string{"--spew"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Install a line-by-line trace function (debug only)"},
	{Name: "check_config", Section: "Debugging", Flags: []string{"--check-config"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Load config + app, exit 0/1"},
	{Name: "print_config", Section: "Debugging", Flags: []string{"--print-config"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Print resolved settings (key = value), then behave like check_config"},
	{Name: "preload_app", Section: "Server Mechanics", Flags: []string{"--preload"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Import the app in the master before fork (CoW sharing; HUP then cannot reload code)"},
	{Name: "sendfile", Section: "Server Mechanics", Flags: []string{"--no-sendfile"}, Action: ActStoreConst, Const: false, Type: TypeBool, Default: nil, Env: "SENDFILE", DefaultDoc: "None (enabled unless env SENDFILE says otherwise)", Validate: vBool, Status: Implemented, Doc: "`--no-sendfile` turns sendfile() off; without the flag, env SENDFILE decides (y/1/yes/true = on, anything else = off; unset = on)"},
	{Name: "reuse_port", Section: "Server Mechanics", Flags: []string{"--reuse-port"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Set SO_REUSEPORT; each worker then binds its own listener"},
	{Name: "chdir", Section: "Server Mechanics", Flags: []string{"--chdir"}, Type: TypeString, DefaultFunc: defChdir, DefaultDoc: "the current directory (PWD-aware)", Validate: vChdir, Status: Implemented, Doc: "chdir before loading the app and prepend it to sys.path; default = cwd (PWD-aware)"},
	{Name: "daemon", Section: "Server Mechanics", Flags: []string{"-D", "--daemon"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Double-fork into the background (warns if NOTIFY_SOCKET set)"},
	{Name: "raw_env", Section: "Server Mechanics", Flags: []string{"-e", "--env"}, Meta: "ENV", Action: ActAppend, Type: TypeList, Default: []string{}, Validate: vListString, Status: Implemented, Doc: "KEY=VALUE env vars set in master and workers; repeatable"},
	{Name: "pidfile", Section: "Server Mechanics", Flags: []string{"-p", "--pid"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "PID file path; new master after USR2 writes PATH.2"},
	{Name: "worker_tmp_dir", Section: "Server Mechanics", Flags: []string{"--worker-tmp-dir"}, Meta: "DIR", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "Directory for the per-worker heartbeat temp file (use tmpfs, e.g. /dev/shm)"},
	{Name: "user", Section: "Server Mechanics", Flags: []string{"-u", "--user"}, Meta: "USER", Type: TypeInt, DefaultFunc: defUser, DefaultDoc: "the effective uid", Validate: vUser, Status: Implemented, Doc: "uid/name workers switch to (also used to chown unix socket, log files, tmp file)"},
	{Name: "group", Section: "Server Mechanics", Flags: []string{"-g", "--group"}, Meta: "GROUP", Type: TypeInt, DefaultFunc: defGroup, DefaultDoc: "the effective gid", Validate: vGroup, Status: Implemented, Doc: "gid/name workers switch to"},
	{Name: "umask", Section: "Server Mechanics", Flags: []string{"-m", "--umask"}, Meta: "INT", Conv: convAutoInt, Type: TypeInt, Default: 0, Validate: vPosInt, Status: Implemented, Doc: "umask for files gunicorn creates (unix socket, tmp files); octal/hex accepted"},
	{Name: "initgroups", Section: "Server Mechanics", Flags: []string{"--initgroups"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Call initgroups() for the worker user"},
	{Name: "tmp_upload_dir", Section: "Server Mechanics", Meta: "DIR", Type: TypeString, Default: nil, Validate: vString, Status: NotYet, Doc: "Documented upload temp dir; not referenced anywhere in the code (dead setting)"},
	{Name: "secure_scheme_headers", Section: "Server Mechanics", Type: TypeDict, Default: map[string]any{"X-FORWARDED-PROTOCOL": "ssl", "X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"}, Validate: vDict, Status: Implemented, Doc: "Header->value map that marks a request as https when the peer is in forwarded_allow_ips; conflicting values raise InvalidSchemeHeaders (400)"},
	{Name: "forwarded_allow_ips", Section: "Server Mechanics", Flags: []string{"--forwarded-allow-ips"}, Meta: "STRING", Type: TypeList, Default: "127.0.0.1,::1", DefaultFunc: defForwarded, Env: "FORWARDED_ALLOW_IPS", Validate: vAddrList, Status: Implemented, Doc: "Trusted front-end IPs/CIDRs ('*' = any) for scheme headers, forwarder_headers and h2c; default from FORWARDED_ALLOW_IPS env; unix sockets always trusted"},
	{Name: "accesslog", Section: "Logging", Flags: []string{"--access-logfile"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "Access log target; '-' = stdout; None = off"},
	{Name: "disable_redirect_access_to_syslog", Section: "Logging", Flags: []string{"--disable-redirect-access-to-syslog"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "With --log-syslog, keep access lines out of syslog (without it, --log-syslog alone turns the access log on, to syslog only)"},
	{Name: "access_log_format", Section: "Logging", Flags: []string{"--access-logformat"}, Meta: "STRING", Type: TypeString, Default: "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"", Validate: vString, Status: Implemented, Doc: "Access line template using %(atom)s atoms (see section 3.9)"},
	{Name: "errorlog", Section: "Logging", Flags: []string{"--error-logfile", "--log-file"}, Meta: "FILE", Type: TypeString, Default: "-", Validate: vString, Status: Implemented, Doc: "Error log target; '-' = stderr"},
	{Name: "loglevel", Section: "Logging", Flags: []string{"--log-level"}, Meta: "LEVEL", Type: TypeString, Default: "info", Validate: vString, Status: Implemented, Doc: "debug|info|warning|error|critical for the error log"},
	{Name: "capture_output", Section: "Logging", Flags: []string{"--capture-output"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "dup2 stdout/stderr of master+workers into the errorlog file"},
	{Name: "logger_class", Section: "Logging", Flags: []string{"--logger-class"}, Meta: "STRING", Type: TypeClass, Default: "gunicorn.glogging.Logger", Validate: vClass, Status: NotYet, Doc: "Logger class path ('simple' = default); auto-switches to Statsd logger when statsd_host set"},
	{Name: "logconfig", Section: "Logging", Flags: []string{"--log-config"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: NotYet, Doc: "logging.config.fileConfig INI file"},
	{Name: "logconfig_dict", Section: "Logging", Type: TypeDict, Default: map[string]any{}, Validate: vDict, Status: NotYet, Doc: "dictConfig mapping merged over gunicorn's defaults; wins over logconfig/logconfig_json"},
	{Name: "logconfig_json", Section: "Logging", Flags: []string{"--log-config-json"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: NotYet, Doc: "dictConfig read from a JSON file"},
	{Name: "syslog_addr", Section: "Logging", Flags: []string{"--log-syslog-to"}, Meta: "SYSLOG_ADDR", Type: TypeString, Default: "udp://localhost:514", Validate: vString, Status: Implemented, Doc: "Where --log-syslog sends: unix://PATH[#dgram|#stream] (datagram first, then stream, unless #dgram), udp://HOST[:PORT], tcp://HOST[:PORT] (port 514 when absent); an unresolvable host or a refused tcp connection stops startup (exit 1), an unreachable daemon later only drops lines"},
	{Name: "syslog", Section: "Logging", Flags: []string{"--log-syslog"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Also send the error log and, unless disable_redirect_access_to_syslog, the access log to syslog as `<PRI>gunicorn.<prefix>.<error|access>: [pid] message\\0` (Python SysLogHandler bytes)"},
	{Name: "syslog_prefix", Section: "Logging", Flags: []string{"--log-syslog-prefix"}, Meta: "SYSLOG_PREFIX", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "Program name in syslog tags gunicorn.<prefix>.<error|access>; default proc_name (-n, else the app URI) with ':' replaced by '.'"},
	{Name: "syslog_facility", Section: "Logging", Flags: []string{"--log-syslog-facility"}, Meta: "SYSLOG_FACILITY", Type: TypeString, Default: "user", Validate: vString, Status: Implemented, Doc: "Syslog facility name (case-insensitive): auth, authpriv, cron, daemon, ftp, kern, lpr, mail, news, security, syslog, user, uucp, local0-local7; anything else stops startup (exit 1)"},
	{Name: "enable_stdio_inheritance", Section: "Logging", Flags: []string{"-R", "--enable-stdio-inheritance"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Keep stdio fds when daemonizing"},
	{Name: "statsd_host", Section: "Logging", Flags: []string{"--statsd-host"}, Meta: "STATSD_ADDR", Type: TypeString, Default: nil, Validate: vStatsd, Status: Implemented, Doc: "StatsD target HOST[:PORT] (UDP, port 8125 by default) or unix://PATH (datagram socket); sends gunicorn.requests, gunicorn.request.duration, gunicorn.request.status.<code>, gunicorn.workers and gunicorn.log.<level> metrics; an unreachable target drops metrics, never requests"},
	{Name: "dogstatsd_tags", Section: "Logging", Flags: []string{"--dogstatsd-tags"}, Meta: "DOGSTATSD_TAGS", Type: TypeString, Default: "", Validate: vString, Status: Implemented, Doc: "Comma list of DogStatsD tags appended verbatim to every metric as |#tags"},
	{Name: "statsd_prefix", Section: "Logging", Flags: []string{"--statsd-prefix"}, Meta: "STATSD_PREFIX", Type: TypeString, Default: "", Validate: vString, Status: Implemented, Doc: "Prefix for every metric name; trailing dots collapse into one added dot (app -> app.gunicorn.requests)"},
	{Name: "enable_backlog_metric", Section: "Logging", Flags: []string{"--enable-backlog-metric"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Linux: log the backlog at debug level once a second and, with --statsd-host, send it as the gunicorn.backlog histogram. gonicorn counts the TCP listeners' accept queues plus the requests waiting for a free worker (gonicorn accepts connections at once and queues requests instead)"},
	{Name: "proc_name", Section: "Process Naming", Flags: []string{"-n", "--name"}, Meta: "STRING", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "setproctitle base name (needs setproctitle; disabled on macOS)"},
	{Name: "default_proc_name", Section: "Process Naming", Type: TypeString, Default: "gunicorn", Validate: vString, Status: Implemented, Doc: "Internal: set to app URI / paste file; used when proc_name unset"},
	{Name: "pythonpath", Section: "Server Mechanics", Flags: []string{"--pythonpath"}, Meta: "STRING", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "Comma list of dirs prepended to sys.path"},
	{Name: "paste", Section: "Server Mechanics", Flags: []string{"--paste", "--paster"}, Meta: "STRING", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "PasteDeploy INI (optionally #section) as the app source: the app comes from paste.deploy.loadapp in each worker (PasteDeploy must be installed in the app's Python); an INI with a [loggers] section is also the logconfig"},
	{Name: "on_starting", Section: "Server Hooks", Type: TypeHook, HookDefault: "<OnStarting.on_starting()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "on_reload", Section: "Server Hooks", Type: TypeHook, HookDefault: "<OnReload.on_reload()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "when_ready", Section: "Server Hooks", Type: TypeHook, HookDefault: "<WhenReady.when_ready()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "pre_fork", Section: "Server Hooks", Type: TypeHook, HookDefault: "<Prefork.pre_fork()>", Validate: vHook(2), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "post_fork", Section: "Server Hooks", Type: TypeHook, HookDefault: "<Postfork.post_fork()>", Validate: vHook(2), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "post_worker_init", Section: "Server Hooks", Type: TypeHook, HookDefault: "<PostWorkerInit.post_worker_init()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "worker_int", Section: "Server Hooks", Type: TypeHook, HookDefault: "<WorkerInt.worker_int()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "worker_abort", Section: "Server Hooks", Type: TypeHook, HookDefault: "<WorkerAbort.worker_abort()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "pre_exec", Section: "Server Hooks", Type: TypeHook, HookDefault: "<PreExec.pre_exec()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4 (runs in forked child just before exec)"},
	{Name: "pre_request", Section: "Server Hooks", Type: TypeHook, HookDefault: "<PreRequest.pre_request()>", Validate: vHook(2), Status: Implemented, Doc: "Hook, see section 4 (default logs 'METHOD path' at debug)"},
	{Name: "post_request", Section: "Server Hooks", Type: TypeHook, HookDefault: "<PostRequest.post_request()>", Validate: vPostRequest, Status: Implemented, Doc: "Hook, see section 4 (arity 2, 3 or 4 accepted)"},
	{Name: "child_exit", Section: "Server Hooks", Type: TypeHook, HookDefault: "<ChildExit.child_exit()>", Validate: vHook(2), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "worker_exit", Section: "Server Hooks", Type: TypeHook, HookDefault: "<WorkerExit.worker_exit()>", Validate: vHook(2), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "nworkers_changed", Section: "Server Hooks", Type: TypeHook, HookDefault: "<NumWorkersChanged.nworkers_changed()>", Validate: vHook(3), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "on_exit", Section: "Server Hooks", Type: TypeHook, HookDefault: "<OnExit.on_exit()>", Validate: vHook(1), Status: Implemented, Doc: "Hook, see section 4"},
	{Name: "ssl_context", Section: "Server Hooks", Type: TypeHook, HookDefault: "<NewSSLContext.ssl_context()>", Validate: vHook(2), Status: NotYet, Doc: "Hook building the SSLContext (config, default_factory) -> SSLContext"},
	{Name: "proxy_protocol", Section: "Server Mechanics", Flags: []string{"--proxy-protocol"}, Meta: "MODE", Action: ActOptional, Const: "auto", Type: TypeString, Default: "off", Validate: vProxyProtocol, Status: Implemented, Doc: "PROXY protocol: off|v1|v2|auto (bare flag = auto; True = auto)"},
	{Name: "proxy_allow_ips", Section: "Server Mechanics", Flags: []string{"--proxy-allow-from"}, Type: TypeList, Default: "127.0.0.1,::1", Validate: vAddrList, Status: Implemented, Doc: "Peers allowed to send a PROXY header (IPs/CIDRs, '*')"},
	{Name: "protocol", Section: "Server Mechanics", Flags: []string{"--protocol"}, Meta: "STRING", Type: TypeString, Default: "http", Validate: vString, Status: Implemented, Doc: "Wire protocol: http (default) or uwsgi (nginx uwsgi_pass)"},
	{Name: "uwsgi_allow_ips", Section: "Server Mechanics", Flags: []string{"--uwsgi-allow-from"}, Type: TypeList, Default: "127.0.0.1,::1", Validate: vAddrList, Status: Implemented, Doc: "Peers allowed to speak uwsgi (exact IP string match, '*' = any; unix sockets always allowed)"},
	{Name: "keyfile", Section: "SSL", Flags: []string{"--keyfile"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "TLS private key"},
	{Name: "certfile", Section: "SSL", Flags: []string{"--certfile"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "TLS certificate (existence checked by master at bind time)"},
	{Name: "ssl_version", Section: "SSL", Flags: []string{"--ssl-version"}, Type: TypeInt, Default: 2, DefaultDoc: "2 (ssl.PROTOCOL_TLS)", Validate: vSSLVersion, Status: NotYet, Doc: "Deprecated since 21.0 and ignored (warning printed); use ssl_context"},
	{Name: "cert_reqs", Section: "SSL", Flags: []string{"--cert-reqs"}, Type: TypeInt, Default: 0, Validate: vPosInt, Status: Implemented, Doc: "Client-cert policy 0/1/2 (none/optional/required)"},
	{Name: "ca_certs", Section: "SSL", Flags: []string{"--ca-certs"}, Meta: "FILE", Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "CA bundle for client verification"},
	{Name: "suppress_ragged_eofs", Section: "SSL", Flags: []string{"--suppress-ragged-eofs"}, Action: ActStoreTrue, Type: TypeBool, Default: true, Validate: vBool, Status: NotYet, Doc: "ssl wrap option (a store_true flag with default True, so the CLI cannot turn it off)"},
	{Name: "do_handshake_on_connect", Section: "SSL", Flags: []string{"--do-handshake-on-connect"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: NotYet, Doc: "ssl wrap option (handshake is forced anyway when ALPN is needed)"},
	{Name: "ciphers", Section: "SSL", Flags: []string{"--ciphers"}, Type: TypeString, Default: nil, Validate: vString, Status: Implemented, Doc: "OpenSSL cipher string"},
	{Name: "http_protocols", Section: "HTTP/2", Flags: []string{"--http-protocols"}, Meta: "STRING", Type: TypeList, Default: "h1", Validate: vHTTPProtocols, Status: Implemented, Doc: "Comma list in preference order of h1,h2,h3 (h3 reserved, not implemented); h2 needs TLS+ALPN and the h2 package"},
	{Name: "http2_cleartext", Section: "HTTP/2", Flags: []string{"--http2-cleartext"}, Meta: "STRING", Type: TypeString, Default: "off", Validate: vH2Cleartext, Status: Implemented, Doc: "h2c: off|prior-knowledge|upgrade|both, only for peers in forwarded_allow_ips (unreleased in 26.1.0 tree; docs say 26.2.0)"},
	{Name: "http2_max_concurrent_streams", Section: "HTTP/2", Flags: []string{"--http2-max-concurrent-streams"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 100, Validate: vH2StreamLimit, Status: Implemented, Doc: "SETTINGS_MAX_CONCURRENT_STREAMS"},
	{Name: "http2_initial_window_size", Section: "HTTP/2", Flags: []string{"--http2-initial-window-size"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 65535, Validate: vH2WindowSize, Status: Implemented, Doc: "Initial flow-control window"},
	{Name: "http2_max_frame_size", Section: "HTTP/2", Flags: []string{"--http2-max-frame-size"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 16384, Validate: vH2FrameSize, Status: Implemented, Doc: "Max frame payload, validated to 16384..16777215"},
	{Name: "http2_max_header_list_size", Section: "HTTP/2", Flags: []string{"--http2-max-header-list-size"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 65536, Validate: vPosInt, Status: Implemented, Doc: "Max decoded header list (HPACK bomb guard); 0 = unlimited"},
	{Name: "raw_paste_global_conf", Section: "Server Mechanics", Flags: []string{"--paste-global"}, Meta: "CONF", Action: ActAppend, Type: TypeList, Default: []string{}, Validate: vListString, Status: Implemented, Doc: "PasteDeploy global_conf key=value; repeatable"},
	{Name: "permit_obsolete_folding", Section: "Server Mechanics", Flags: []string{"--permit-obsolete-folding"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Accept obs-fold header continuation lines (otherwise 400 ObsoleteFolding)"},
	{Name: "strip_header_spaces", Section: "Server Mechanics", Flags: []string{"--strip-header-spaces"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Strip whitespace before ':' (dangerous; 'scheduled for removal in 25.0.0' but still present)"},
	{Name: "permit_unconventional_http_method", Section: "Server Mechanics", Flags: []string{"--permit-unconventional-http-method"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Allow methods <3 or >20 chars, lowercase or containing '#'"},
	{Name: "permit_unconventional_http_version", Section: "Server Mechanics", Flags: []string{"--permit-unconventional-http-version"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Allow HTTP versions other than 1.0/1.1"},
	{Name: "casefold_http_method", Section: "Server Mechanics", Flags: []string{"--casefold-http-method"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Upper-case incoming methods (legacy behaviour; deprecated)"},
	{Name: "forwarder_headers", Section: "Server Mechanics", Flags: []string{"--forwarder-headers"}, Type: TypeList, Default: "SCRIPT_NAME,PATH_INFO", Validate: vStringList, Status: Implemented, Doc: "Headers (e.g. SCRIPT_NAME, PATH_INFO, REMOTE_USER) a trusted proxy may inject into environ"},
	{Name: "header_map", Section: "Server Mechanics", Flags: []string{"--header-map"}, Type: TypeString, Default: "drop", Validate: vHeaderMap, Status: Implemented, Doc: "Headers whose names collide in environ (e.g. underscores): drop | refuse (400) | dangerous (legacy merge)"},
	{Name: "asgi_loop", Section: "Worker Processes", Flags: []string{"--asgi-loop"}, Meta: "STRING", Type: TypeString, Default: "auto", Validate: vASGILoop, Status: Implemented, Doc: "asgi worker loop: auto (uvloop if importable) | asyncio | uvloop"},
	{Name: "asgi_lifespan", Section: "Worker Processes", Flags: []string{"--asgi-lifespan"}, Meta: "STRING", Type: TypeString, Default: "auto", Validate: vASGILifespan, Status: Implemented, Doc: "asgi lifespan: auto | on (fail if startup fails) | off"},
	{Name: "asgi_disconnect_grace_period", Section: "Worker Processes", Flags: []string{"--asgi-disconnect-grace-period"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 3, Validate: vPosInt, Status: Implemented, Doc: "Seconds an ASGI app gets after http.disconnect before its task is cancelled"},
	{Name: "websocket_max_message_size", Section: "Worker Processes", Flags: []string{"--websocket-max-message-size"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 16777216, Validate: vPosInt, Since: "27.0", Status: Implemented, Doc: "Largest WebSocket message, in bytes, the ``asgi`` worker accepts; a larger one closes the connection with 1009 (Message too big). gonicorn carries at most 16777215 bytes per message (one worker frame): 0 and larger values mean that, with a warning"},
	{Name: "http_parser", Section: "Worker Processes", Flags: []string{"--http-parser"}, Meta: "STRING", Type: TypeString, Default: "auto", Validate: vHTTPParser, Status: NotYet, Doc: "auto | fast (requires gunicorn_h1c C ext) | python; used by WSGI and ASGI paths"},
	{Name: "root_path", Section: "Server Mechanics", Flags: []string{"--root-path"}, Meta: "STRING", Type: TypeString, Default: "", Validate: vString, Status: Implemented, Doc: "ASGI scope root_path (mount prefix)"},
	{Name: "dirty_apps", Section: "Dirty Arbiters", Flags: []string{"--dirty-app"}, Meta: "STRING", Action: ActAppend, Type: TypeList, Default: []string{}, Validate: vListString, Status: NotYet, Doc: "DirtyApp classes module:Class[:N] (N = how many dirty workers load it); repeatable"},
	{Name: "dirty_workers", Section: "Dirty Arbiters", Flags: []string{"--dirty-workers"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 0, Validate: vPosInt, Status: NotYet, Doc: "Dirty worker count; 0 disables the dirty arbiter"},
	{Name: "dirty_timeout", Section: "Dirty Arbiters", Flags: []string{"--dirty-timeout"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 300, Validate: vPosInt, Status: NotYet, Doc: "Per-task / heartbeat timeout for dirty workers; 0 disables"},
	{Name: "dirty_threads", Section: "Dirty Arbiters", Flags: []string{"--dirty-threads"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 1, Validate: vPosInt, Status: NotYet, Doc: "Threads per dirty worker"},
	{Name: "dirty_graceful_timeout", Section: "Dirty Arbiters", Flags: []string{"--dirty-graceful-timeout"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 30, Validate: vPosInt, Status: NotYet, Doc: "Graceful shutdown window for dirty workers"},
	{Name: "on_dirty_starting", Section: "Dirty Arbiter Hooks", Type: TypeHook, HookDefault: "<OnDirtyStarting.on_dirty_starting()>", Validate: vHook(1), Status: NotYet, Doc: "Hook, see section 4"},
	{Name: "dirty_post_fork", Section: "Dirty Arbiter Hooks", Type: TypeHook, HookDefault: "<DirtyPostFork.dirty_post_fork()>", Validate: vHook(2), Status: NotYet, Doc: "Hook, see section 4"},
	{Name: "dirty_worker_init", Section: "Dirty Arbiter Hooks", Type: TypeHook, HookDefault: "<DirtyWorkerInit.dirty_worker_init()>", Validate: vHook(1), Status: NotYet, Doc: "Hook, see section 4"},
	{Name: "dirty_worker_exit", Section: "Dirty Arbiter Hooks", Type: TypeHook, HookDefault: "<DirtyWorkerExit.dirty_worker_exit()>", Validate: vHook(2), Status: NotYet, Doc: "Hook, see section 4"},
	{Name: "control_socket", Section: "Control", Flags: []string{"--control-socket"}, Meta: "PATH", Type: TypeString, DefaultFunc: defControlSocket, Env: "XDG_RUNTIME_DIR", DefaultDoc: "$XDG_RUNTIME_DIR/gunicorn.ctl, else ~/.gunicorn/gunicorn.ctl", Validate: vString, Status: Implemented, Doc: "Unix socket of the control interface for gunicornc (see docs/control.md); a relative path is resolved against the working directory; the directory is created (0700) if missing; a leftover socket file is replaced, any other file is left alone and the control socket is not started"},
	{Name: "control_socket_mode", Section: "Control", Flags: []string{"--control-socket-mode"}, Meta: "INT", Conv: convAutoInt, Type: TypeInt, Default: 384, Validate: vPosInt, Status: Implemented, Doc: "Permission bits of the control socket file; 0600 lets only the owner connect, 0660 the group too"},
	{Name: "control_socket_disable", Section: "Control", Flags: []string{"--no-control-socket"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, Doc: "Do not start the control socket server; gunicornc cannot reach this server"},

	// gonicorn-only settings.
	{Name: "python", Section: "gonicorn", Flags: []string{"--python"}, Meta: "PATH", Type: TypeString, DefaultFunc: defPython, Env: "VIRTUAL_ENV", DefaultDoc: "$VIRTUAL_ENV/bin/python if VIRTUAL_ENV is set, else python3 on PATH", Validate: vString, Status: Implemented, GonicornOnly: true, Doc: "Python interpreter that runs the zygote and the workers (the app's virtualenv)"},
	{Name: "request_timeout", Section: "gonicorn", Flags: []string{"--request-timeout"}, Meta: "SECONDS", Conv: convFloat, Type: TypeFloat, Default: 0.0, Validate: vPosFloat, Status: Implemented, GonicornOnly: true, Doc: "Per-request deadline in seconds for every worker class, independent of the heartbeat timeout; 0 = off"},
	{Name: "max_worker_memory", Section: "gonicorn", Flags: []string{"--max-worker-memory"}, Meta: "MB", Conv: convInt, Type: TypeInt, Default: 0, Validate: vPosInt, Status: Implemented, GonicornOnly: true, Doc: "Recycle a worker (after its current requests) once its RSS exceeds this many MB; 0 = off"},
	{Name: "queue_timeout", Section: "gonicorn", Flags: []string{"--queue-timeout"}, Meta: "SECONDS", Conv: convFloat, Type: TypeFloat, Default: 0.0, Validate: vPosFloat, Status: Implemented, GonicornOnly: true, Doc: "Longest a request may wait for a free worker before it gets 503; 0 = wait as long as it takes (gunicorn's backlog behaviour)"},
	{Name: "max_queue", Section: "gonicorn", Flags: []string{"--max-queue"}, Meta: "INT", Conv: convInt, Type: TypeInt, Default: 0, Validate: vPosInt, Status: Implemented, GonicornOnly: true, Doc: "Most requests waiting for a free worker before new ones get 503; 0 = no limit"},
	{Name: "pipeline", Section: "gonicorn", Flags: []string{"--pipeline"}, Action: ActStoreTrue, Type: TypeBool, Default: false, Validate: vBool, Status: Implemented, GonicornOnly: true, Doc: "When every worker is busy, queue one more request on a sync worker that has only just started its current one, so it reads the next request as it finishes: more requests/s on fast endpoints; a request queued behind one that turns slow waits for it. Off with --queue-timeout or --max-queue"},
}
