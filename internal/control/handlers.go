package control

import (
	"context"
	"fmt"
	"math"
	"syscall"
	"time"
)

// configKeys are the settings `show config` reports, in gunicorn's order.
var configKeys = []string{
	"bind", "workers", "worker_class", "threads", "timeout",
	"graceful_timeout", "keepalive", "max_requests",
	"max_requests_jitter", "worker_connections", "preload_app",
	"daemon", "pidfile", "proc_name", "reload",
	"dirty_workers", "dirty_apps", "dirty_timeout",
	"control_socket", "control_socket_disable",
}

// helpText is gunicorn's CommandHandlers.help, in its order.
var helpText = object{
	{"show all", "Show all processes (arbiter, web workers, dirty workers)"},
	{"show workers", "List HTTP workers with their status"},
	{"show dirty", "List dirty workers and apps"},
	{"show config", "Show current effective configuration"},
	{"show stats", "Show server statistics"},
	{"show listeners", "Show bound sockets"},
	{"worker add [N]", "Spawn N workers (default 1)"},
	{"worker remove [N]", "Remove N workers (default 1)"},
	{"worker kill <PID>", "Gracefully terminate specific worker"},
	{"dirty add [N]", "Spawn N dirty workers (default 1)"},
	{"dirty remove [N]", "Remove N dirty workers (default 1)"},
	{"reload", "Graceful reload (HUP)"},
	{"reopen", "Reopen log files (USR1)"},
	{"shutdown [graceful|quick]", "Shutdown server (TERM/INT)"},
	{"help", "Show this help message"},
}

// execute runs a parsed command against the master and returns the reply
// data, shaped as gunicorn's CommandHandlers shape it.
func execute(ctx context.Context, m Master, c Command) (any, error) {
	switch c.Name {
	case "help":
		return object{{"commands", helpText}}, nil
	case "dirty":
		// gonicorn has no dirty arbiter: gunicorn's answer when none runs.
		return object{{"success", false}, {"error", "Dirty arbiter not running"}}, nil
	case "show":
		if c.Action == "dirty" {
			return object{{"enabled", false}, {"pid", nil}, {"workers", []any{}}, {"apps", []any{}}}, nil
		}
		res, err := m.Control(ctx, Request{Op: OpSnapshot})
		if err != nil {
			return nil, err
		}
		return show(c.Action, res.Snapshot, time.Now()), nil
	case "worker":
		switch c.Action {
		case "add":
			res, err := m.Control(ctx, Request{Op: OpAddWorkers, N: c.N})
			if err != nil {
				return nil, err
			}
			return object{{"added", c.N}, {"previous", res.Previous}, {"total", res.Total}}, nil
		case "remove":
			res, err := m.Control(ctx, Request{Op: OpRemoveWorkers, N: c.N})
			if err != nil {
				return nil, err
			}
			return object{{"removed", res.Previous - res.Total}, {"previous", res.Previous}, {"total", res.Total}}, nil
		case "kill":
			res, err := m.Control(ctx, Request{Op: OpKillWorker, N: c.N})
			if err != nil {
				return nil, err
			}
			if !res.Found {
				return object{{"success", false}, {"error", fmt.Sprintf("Worker %d not found", c.N)}}, nil
			}
			return object{{"success", true}, {"killed", c.N}}, nil
		}
	case "reload":
		return signal(ctx, m, syscall.SIGHUP, object{{"status", "reloading"}})
	case "reopen":
		return signal(ctx, m, syscall.SIGUSR1, object{{"status", "reopening"}})
	case "shutdown":
		sig := syscall.SIGTERM
		if c.Mode == "quick" {
			sig = syscall.SIGINT
		}
		return signal(ctx, m, sig, object{{"status", "shutting_down"}, {"mode", c.Mode}})
	}
	return nil, valueErrorf("Unknown command: %s", c.Name)
}

func signal(ctx context.Context, m Master, sig syscall.Signal, reply object) (any, error) {
	if _, err := m.Control(ctx, Request{Op: OpSignal, Signal: sig}); err != nil {
		return nil, err
	}
	return reply, nil
}

// seconds is Python's round(x, 2) of a duration in seconds.
func seconds(d time.Duration) pyFloat {
	return pyFloat(math.Round(d.Seconds()*100) / 100)
}

func show(target string, s Snapshot, now time.Time) any {
	switch target {
	case "workers":
		ws := make([]any, len(s.Workers))
		for i, w := range s.Workers {
			ws[i] = object{{"pid", w.PID}, {"age", w.Age}, {"booted", w.Booted}, {"aborted", w.Aborted},
				{"last_heartbeat", seconds(w.LastHeartbeat)}}
		}
		return object{{"workers", ws}, {"count", len(ws)}}
	case "config":
		out := object{}
		for _, k := range configKeys {
			if v, ok := s.Config[k]; ok {
				out = append(out, field{k, v})
			}
		}
		return out
	case "stats":
		var uptime any
		if !s.Started.IsZero() {
			uptime = seconds(now.Sub(s.Started))
		}
		return object{{"uptime", uptime}, {"pid", s.PID}, {"workers_current", len(s.Workers)},
			{"workers_target", s.Target}, {"workers_spawned", s.Spawned}, {"workers_killed", s.Killed},
			{"reloads", s.Reloads}, {"dirty_arbiter_pid", nil}}
	case "listeners":
		ls := make([]any, len(s.Listeners))
		for i, l := range s.Listeners {
			ls[i] = object{{"address", l.Address}, {"fd", l.FD}, {"type", l.Type}}
		}
		return object{{"listeners", ls}, {"count", len(ls)}}
	}
	// all
	ws := make([]any, len(s.Workers))
	for i, w := range s.Workers {
		ws[i] = object{{"pid", w.PID}, {"type", "web"}, {"age", w.Age}, {"booted", w.Booted},
			{"last_heartbeat", seconds(w.LastHeartbeat)}}
	}
	return object{
		{"arbiter", object{{"pid", s.PID}, {"type", "arbiter"}, {"role", "master"}}},
		{"web_workers", ws}, {"web_worker_count", len(ws)},
		{"dirty_arbiter", nil}, {"dirty_workers", []any{}}, {"dirty_worker_count", 0},
	}
}
