package control

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// Command is one parsed gunicornc command.
type Command struct {
	Name   string // show, worker, dirty, reload, reopen, shutdown, help
	Action string // show target, or worker/dirty action, lower-cased
	N      int    // worker/dirty count (at least 1), or the pid for worker kill
	Mode   string // shutdown mode as sent; only "quick" is special
}

// errEmpty is gunicorn's "Empty command" reply.
var errEmpty = errors.New("Empty command")

// valueError is a Python ValueError in gunicorn's dispatcher: the reply
// says "Invalid argument: " and the message.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

func valueErrorf(format string, args ...any) error {
	return &valueError{fmt.Sprintf(format, args...)}
}

// failedError is any other exception in gunicorn's dispatcher: the reply
// says "Command failed: " and the message.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

// replyError is the text of the error reply for a parse or command error.
func replyError(err error) string {
	var ve *valueError
	var fe *failedError
	switch {
	case errors.Is(err, errEmpty):
		return "Empty command"
	case errors.As(err, &ve):
		return "Invalid argument: " + ve.msg
	case errors.As(err, &fe):
		return "Command failed: " + fe.msg
	}
	return "Command failed: " + err.Error()
}

// parseCommand is gunicorn's ControlSocketServer._dispatch and
// _execute_command up to the handler call: shlex-split the command, append
// the args, route on the first word.
func parseCommand(req request) (Command, error) {
	command := strings.TrimSpace(req.command)
	if command == "" {
		return Command{}, errEmpty
	}
	parts, err := pytext.ShlexSplit(command)
	if err != nil {
		return Command{}, &valueError{err.Error()}
	}
	if req.argsErr != "" {
		return Command{}, &failedError{req.argsErr}
	}
	parts = append(parts, req.args...)
	if len(parts) == 0 {
		return Command{}, errEmpty
	}
	c := Command{Name: strings.ToLower(parts[0])}
	rest := parts[1:]
	switch c.Name {
	case "show":
		if len(rest) == 0 {
			return c, valueErrorf("Missing show target (all|workers|dirty|config|stats|listeners)")
		}
		c.Action = strings.ToLower(rest[0])
		switch c.Action {
		case "all", "workers", "dirty", "config", "stats", "listeners":
			return c, nil
		}
		return c, valueErrorf("Unknown show target: %s", c.Action)
	case "worker":
		if len(rest) == 0 {
			return c, valueErrorf("Missing worker action (add|remove|kill)")
		}
		c.Action = strings.ToLower(rest[0])
		switch c.Action {
		case "add", "remove":
			return c, parseCount(&c, rest[1:])
		case "kill":
			if len(rest) < 2 {
				return c, valueErrorf("Missing PID for worker kill")
			}
			n, err := pyInt(rest[1])
			if err != nil {
				return c, &valueError{err.Error()}
			}
			c.N = n
			return c, nil
		}
		return c, valueErrorf("Unknown worker action: %s", c.Action)
	case "dirty":
		if len(rest) == 0 {
			return c, valueErrorf("Missing dirty action (add|remove)")
		}
		c.Action = strings.ToLower(rest[0])
		if c.Action == "add" || c.Action == "remove" {
			return c, parseCount(&c, rest[1:])
		}
		return c, valueErrorf("Unknown dirty action: %s", c.Action)
	case "reload", "reopen", "help":
		return c, nil
	case "shutdown":
		c.Mode = "graceful"
		if len(rest) > 0 {
			c.Mode = rest[0]
		}
		return c, nil
	}
	return c, valueErrorf("Unknown command: %s", c.Name)
}

// parseCount is `max(1, int(args[0]) if args else 1)`.
func parseCount(c *Command, args []string) error {
	c.N = 1
	if len(args) == 0 {
		return nil
	}
	n, err := pyInt(args[0])
	if err != nil {
		return &valueError{err.Error()}
	}
	c.N = max(1, n)
	return nil
}
