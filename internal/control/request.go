package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// errMalformed is a payload gunicorn's server would not answer: not UTF-8,
// not JSON, not an object, or a command that is not a string. The
// connection is closed.
var errMalformed = errors.New("control: malformed request")

// request is one decoded request, with gunicorn's leniency: id is echoed
// as sent (0 when absent), args may be any JSON value Python can iterate.
type request struct {
	id      json.RawMessage
	command string
	args    []string
	argsErr string // Python's TypeError text when args is not iterable
}

func decodeRequest(payload []byte) (request, error) {
	req := request{id: json.RawMessage("0")}
	if !utf8.Valid(payload) {
		return req, fmt.Errorf("%w: payload is not UTF-8", errMalformed)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return req, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if m == nil { // the payload was null
		return req, fmt.Errorf("%w: not a JSON object", errMalformed)
	}
	if id, ok := m["id"]; ok {
		req.id = id
	}
	if raw, ok := m["command"]; ok {
		if err := json.Unmarshal(raw, &req.command); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return req, fmt.Errorf("%w: command is not a string", errMalformed)
		}
	}
	if raw, ok := m["args"]; ok {
		args, typeErr, err := decodeArgs(raw)
		if err != nil {
			return req, fmt.Errorf("%w: args: %v", errMalformed, err)
		}
		req.args, req.argsErr = args, typeErr
	}
	return req, nil
}

// decodeArgs is `[str(a) for a in args] if args else []` in Python.
func decodeArgs(raw json.RawMessage) (args []string, typeErr string, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, "", err
	}
	switch t := tok.(type) {
	case nil:
		return nil, "", nil
	case bool:
		if t {
			return nil, "'bool' object is not iterable", nil
		}
		return nil, "", nil
	case json.Number:
		if isFloat(t) {
			if f, _ := t.Float64(); f == 0 {
				return nil, "", nil
			}
			return nil, "'float' object is not iterable", nil
		}
		if strings.TrimLeft(strings.TrimPrefix(string(t), "-"), "0") == "" {
			return nil, "", nil
		}
		return nil, "'int' object is not iterable", nil
	case string:
		for _, r := range t {
			args = append(args, string(r))
		}
		return args, "", nil
	case json.Delim:
		if t == '{' { // iterating a dict yields its keys, in order
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, "", err
				}
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return nil, "", err
				}
				args = append(args, k.(string))
			}
			return args, "", nil
		}
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, "", err
			}
			if s, ok := v.(string); ok {
				args = append(args, s)
			} else {
				args = append(args, pyReprValue(v))
			}
		}
		return args, "", nil
	}
	return nil, "", fmt.Errorf("unexpected token %v", tok)
}

func isFloat(n json.Number) bool { return strings.ContainsAny(string(n), ".eE") }

// pyReprValue is repr() of a decoded JSON value. Nested objects come out
// with sorted keys: Go's decoder does not keep their order.
func pyReprValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pytext.Repr(x)
	case json.Number:
		if isFloat(x) {
			f, _ := x.Float64()
			return pytext.FloatRepr(f)
		}
		if strings.TrimLeft(strings.TrimPrefix(string(x), "-"), "0") == "" {
			return "0"
		}
		return string(x)
	case []any:
		return pytext.ReprList(x, pyReprValue)
	case map[string]any:
		return pytext.ReprDict(x, pyReprValue)
	}
	return fmt.Sprint(v)
}

// object is a JSON object that keeps its keys in the order gunicorn's
// handlers build them, so `gunicornc -j` prints the same text for both.
type object []field

type field struct {
	k string
	v any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// encodeReply builds gunicorn's make_response / make_error_response.
func encodeReply(id json.RawMessage, data any, errText string) ([]byte, error) {
	if errText != "" {
		return marshal(object{{"id", id}, {"status", "error"}, {"error", errText}})
	}
	if data == nil {
		data = object{}
	}
	return marshal(object{{"id", id}, {"status", "ok"}, {"data", data}})
}
