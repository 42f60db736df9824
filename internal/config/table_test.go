package config

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// gunicornSettings are the 119 settings of gunicorn's config.py at the
// reference commit (shared/reference/gunicorn.md §1).
var gunicornSettings = strings.Fields(`config wsgi_app bind backlog workers worker_class threads worker_connections max_requests max_requests_jitter timeout graceful_timeout keepalive limit_request_line limit_request_fields limit_request_field_size reload reload_engine reload_extra_files spew check_config print_config preload_app sendfile reuse_port chdir daemon raw_env pidfile worker_tmp_dir user group umask initgroups tmp_upload_dir secure_scheme_headers forwarded_allow_ips accesslog disable_redirect_access_to_syslog access_log_format errorlog loglevel capture_output logger_class logconfig logconfig_dict logconfig_json syslog_addr syslog syslog_prefix syslog_facility enable_stdio_inheritance statsd_host dogstatsd_tags statsd_prefix enable_backlog_metric proc_name default_proc_name pythonpath paste on_starting on_reload when_ready pre_fork post_fork post_worker_init worker_int worker_abort pre_exec pre_request post_request child_exit worker_exit nworkers_changed on_exit ssl_context proxy_protocol proxy_allow_ips protocol uwsgi_allow_ips keyfile certfile ssl_version cert_reqs ca_certs suppress_ragged_eofs do_handshake_on_connect ciphers http_protocols http2_cleartext http2_max_concurrent_streams http2_initial_window_size http2_max_frame_size http2_max_header_list_size raw_paste_global_conf permit_obsolete_folding strip_header_spaces permit_unconventional_http_method permit_unconventional_http_version casefold_http_method forwarder_headers header_map asgi_loop asgi_lifespan asgi_disconnect_grace_period http_parser root_path dirty_apps dirty_workers dirty_timeout dirty_threads dirty_graceful_timeout on_dirty_starting dirty_post_fork dirty_worker_init dirty_worker_exit control_socket control_socket_mode control_socket_disable `)

func TestAllGunicornSettings(t *testing.T) {
	if len(gunicornSettings) != 119 {
		t.Fatalf("reference list has %d names; want 119", len(gunicornSettings))
	}
	for _, n := range gunicornSettings {
		s := Lookup(n)
		if s == nil {
			t.Errorf("setting %s missing from the table", n)
			continue
		}
		if s.GonicornOnly {
			t.Errorf("setting %s is gunicorn's but marked gonicorn-only", n)
		}
	}
	for _, n := range []string{"python", "request_timeout", "max_worker_memory", "queue_timeout", "max_queue"} {
		if s := Lookup(n); s == nil || !s.GonicornOnly {
			t.Errorf("gonicorn-only setting %s missing or not marked", n)
		}
	}
	seenFlag := map[string]string{}
	for _, s := range Table() {
		if s.Validate == nil || s.Doc == "" || s.Section == "" || s.Status == "" || s.Type == "" {
			t.Errorf("setting %s lacks validator, doc, section, status or type", s.Name)
		}
		for _, f := range s.Flags {
			if other, ok := seenFlag[f]; ok {
				t.Errorf("flag %s used by %s and %s", f, other, s.Name)
			}
			seenFlag[f] = s.Name
		}
	}
}

func TestSettingsDocUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../docs/settings.md")
	if err != nil {
		t.Fatalf("reading docs/settings.md: %v (run go generate ./internal/config)", err)
	}
	if !bytes.Equal(got, Markdown()) {
		t.Errorf("docs/settings.md is stale; run: go generate ./internal/config")
	}
}

func TestWorkerClasses(t *testing.T) {
	tests := []struct {
		class   string
		threads string
		kind    string
		display string
	}{
		{"sync", "1", KindSync, "sync"},
		{"sync", "4", KindGthread, "gthread"},
		{"gunicorn.workers.sync.SyncWorker", "4", KindGthread, "gthread"},
		{"gunicorn.workers.sync.SyncWorker", "1", KindSync, "gunicorn.workers.sync.SyncWorker"},
		{"gthread", "1", KindGthread, "gthread"},
		{"gevent", "4", KindGevent, "gevent"},
		{"gevent_wsgi", "1", KindGevent, "gevent_wsgi"},
		{"gevent_pywsgi", "1", KindGevent, "gevent_pywsgi"},
		{"eventlet", "1", KindEventlet, "eventlet"},
		{"tornado", "1", KindTornado, "tornado"},
		{"asgi", "1", KindASGI, "asgi"},
		{"#asgi", "1", KindASGI, "#asgi"},
		{"uvicorn.workers.UvicornWorker", "1", KindASGI, "uvicorn.workers.UvicornWorker"},
		{"uvicorn.workers.UvicornH11Worker", "1", KindASGI, "uvicorn.workers.UvicornH11Worker"},
		{"uvicorn_worker.UvicornWorker", "1", KindASGI, "uvicorn_worker.UvicornWorker"},
		{"aiohttp.worker.GunicornWebWorker", "1", KindAiohttp, "aiohttp.worker.GunicornWebWorker"},
		{"aiohttp.worker.GunicornUVLoopWebWorker", "1", KindAiohttp, "aiohttp.worker.GunicornUVLoopWebWorker"},
		{"aiohttp.GunicornWebWorker", "1", KindAiohttp, "aiohttp.GunicornWebWorker"},
		{"egg:gunicorn#gevent", "1", KindGevent, "egg:gunicorn#gevent"},
		{"egg:gunicorn", "1", KindSync, "egg:gunicorn"},
		{"gunicorn.workers.gthread.ThreadWorker", "1", KindGthread, "gunicorn.workers.gthread.ThreadWorker"},
		{"gunicorn.workers.gasgi.ASGIWorker", "1", KindASGI, "gunicorn.workers.gasgi.ASGIWorker"},
		{"gunicorn.workers.gtornado.TornadoWorker", "1", KindTornado, "gunicorn.workers.gtornado.TornadoWorker"},
		{"gunicorn.workers.ggevent.GeventPyWSGIWorker", "1", KindGevent, "gunicorn.workers.ggevent.GeventPyWSGIWorker"},
	}
	for _, tt := range tests {
		c := mustParse(t, []string{"-k", tt.class, "--threads", tt.threads, "app:app"}, nil, nil)
		if c.WorkerKind() != tt.kind || c.WorkerClassDisplay() != tt.display {
			t.Errorf("-k %s --threads %s: got %s/%s; want %s/%s", tt.class, tt.threads, c.WorkerKind(), c.WorkerClassDisplay(), tt.kind, tt.display)
		}
	}
	for _, bad := range []string{"nomod.Worker", "egg:other#sync", "gaiohttp"} {
		_, err := Parse([]string{"-k", bad, "app:app"}, nil, nil)
		if err == nil || !strings.Contains(err.(*Error).Output, "invalid or not found: \n\n[") {
			t.Errorf("-k %s: got %v; want class uri error", bad, err)
		}
	}
	// A class object from a config file is not switched to gthread.
	conf := confFile(t)
	c := mustParse(t, []string{"-c", conf, "app:app"}, nil, fakeLoader(map[string]any{"threads": 4.0,
		"worker_class": map[string]any{"callable": "<class 'uvicorn.workers.UvicornWorker'>", "qualname": "UvicornWorker", "module": "uvicorn.workers"}}))
	if c.WorkerKind() != KindASGI || c.WorkerClassDisplay() != "UvicornWorker" {
		t.Errorf("class object: got %s/%s; want asgi/UvicornWorker", c.WorkerKind(), c.WorkerClassDisplay())
	}
}
