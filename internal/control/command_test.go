package control

import (
	"encoding/json"
	"testing"
)

func TestPyInt(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"3", 3, ""},
		{" -2 ", -2, ""},
		{"+1_000", 1000, ""},
		{"٣", 3, ""}, // Arabic-Indic three: int() takes any Nd digit
		{"x", 0, "invalid literal for int() with base 10: 'x'"},
		{"1.5", 0, "invalid literal for int() with base 10: '1.5'"},
		{"1__0", 0, "invalid literal for int() with base 10: '1__0'"},
		{"", 0, "invalid literal for int() with base 10: ''"},
		{"it's", 0, `invalid literal for int() with base 10: "it's"`},
		{"99999999999", 0, "number too large: '99999999999'"},
	}
	for _, tt := range tests {
		got, err := pyInt(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("pyInt(%q) err = %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("pyInt(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		command string
		args    string // JSON, "" for absent
		want    Command
		err     string // the error reply, "" for none
	}{
		{"show workers", "", Command{Name: "show", Action: "workers"}, ""},
		{"SHOW Stats", "", Command{Name: "show", Action: "stats"}, ""},
		{"show", `["listeners"]`, Command{Name: "show", Action: "listeners"}, ""},
		{"show", "", Command{}, "Invalid argument: Missing show target (all|workers|dirty|config|stats|listeners)"},
		{"show foo", "", Command{}, "Invalid argument: Unknown show target: foo"},
		{"worker add", "", Command{Name: "worker", Action: "add", N: 1}, ""},
		{"worker add", `["3"]`, Command{Name: "worker", Action: "add", N: 3}, ""},
		{"worker add", `[3]`, Command{Name: "worker", Action: "add", N: 3}, ""},
		{"worker add 0", "", Command{Name: "worker", Action: "add", N: 1}, ""},
		{"worker remove -5", "", Command{Name: "worker", Action: "remove", N: 1}, ""},
		{"worker add x", "", Command{}, "Invalid argument: invalid literal for int() with base 10: 'x'"},
		{"worker add", `[1.5]`, Command{}, "Invalid argument: invalid literal for int() with base 10: '1.5'"},
		{"worker kill 42", "", Command{Name: "worker", Action: "kill", N: 42}, ""},
		{"worker kill", "", Command{}, "Invalid argument: Missing PID for worker kill"},
		{"worker", "", Command{}, "Invalid argument: Missing worker action (add|remove|kill)"},
		{"worker foo", "", Command{}, "Invalid argument: Unknown worker action: foo"},
		{"dirty add 2", "", Command{Name: "dirty", Action: "add", N: 2}, ""},
		{"dirty", "", Command{}, "Invalid argument: Missing dirty action (add|remove)"},
		{"dirty up", "", Command{}, "Invalid argument: Unknown dirty action: up"},
		{"shutdown", "", Command{Name: "shutdown", Mode: "graceful"}, ""},
		{"shutdown quick", "", Command{Name: "shutdown", Mode: "quick"}, ""},
		{"shutdown Later", "", Command{Name: "shutdown", Mode: "Later"}, ""},
		{"reload now", "", Command{Name: "reload"}, ""},
		{"help", "", Command{Name: "help"}, ""},
		{"  ", "", Command{}, "Empty command"},
		{"", `["show"]`, Command{}, "Empty command"},
		{"bogus", "", Command{}, "Invalid argument: Unknown command: bogus"},
		{`show "workers`, "", Command{}, "Invalid argument: No closing quotation"},
		{"show", `5`, Command{}, "Command failed: 'int' object is not iterable"},
		{"show", `true`, Command{}, "Command failed: 'bool' object is not iterable"},
		{"show", `0`, Command{}, "Invalid argument: Missing show target (all|workers|dirty|config|stats|listeners)"},
		{"worker", `{"add": 1, "2": 0}`, Command{Name: "worker", Action: "add", N: 2}, ""},
		{"show", `"all"`, Command{}, "Invalid argument: Unknown show target: a"},
	}
	for _, tt := range tests {
		payload := map[string]any{"id": 1, "command": tt.command}
		if tt.args != "" {
			payload["args"] = json.RawMessage(tt.args)
		}
		b, _ := json.Marshal(payload)
		req, err := decodeRequest(b)
		if err != nil {
			t.Fatalf("%q %s: decodeRequest: %v", tt.command, tt.args, err)
		}
		got, err := parseCommand(req)
		if tt.err != "" {
			if err == nil || replyError(err) != tt.err {
				t.Errorf("%q %s: error %v; want %q", tt.command, tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q %s: got %+v, %v; want %+v", tt.command, tt.args, got, err, tt.want)
		}
	}
}

// Payloads gunicorn's server closes the connection on, without a reply.
func TestDecodeRequestMalformed(t *testing.T) {
	for _, in := range []string{"", "{", "[1]", `"show"`, "null", "1", `{"command": 1}`, `{"command": null}`,
		`{"command": ["show"]}`, "{\"command\": \"\xff\"}"} {
		if _, err := decodeRequest([]byte(in)); err == nil {
			t.Errorf("decodeRequest(%q) = nil error; want errMalformed", in)
		}
	}
}

func TestDecodeRequestID(t *testing.T) {
	tests := []struct{ in, id string }{
		{`{"command": "help"}`, "0"},
		{`{"id": 7, "command": "help"}`, "7"},
		{`{"id": "abc", "command": "help"}`, `"abc"`},
		{`{"id": null, "command": "help"}`, "null"},
	}
	for _, tt := range tests {
		req, err := decodeRequest([]byte(tt.in))
		if err != nil || string(req.id) != tt.id {
			t.Errorf("decodeRequest(%s).id = %s, %v; want %s", tt.in, req.id, err, tt.id)
		}
	}
}
