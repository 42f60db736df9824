package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// These tests run only when python3 is on PATH: they check the Go codec against
// CPython's own marshal module rather than against our reading of marshal.c.

func python(t *testing.T, script string, stdin []byte) []string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestPythonLoadsVectors feeds every marshal vector to marshal.loads and checks the
// python-origin bytes are exactly what marshal.dumps(v, 2) writes today.
func TestPythonLoadsVectors(t *testing.T) {
	data := []byte(vectorsPath)
	lines := python(t, `import ast, json, marshal, sys
vf = json.load(open(sys.stdin.read()))
for v in vf["marshal"]:
    if v["go_error"]:
        continue
    want = ast.literal_eval(v["python"])
    got = marshal.loads(bytes.fromhex(v["hex"]))
    if repr(got) != repr(want) or type(got) is not type(want):
        print("FAIL", v["name"], "loads gave", repr(got)[:80], "want", repr(want)[:80])
    elif v["origin"] == "python" and marshal.dumps(want, 2).hex() != v["hex"]:
        print("FAIL", v["name"], "dumps(v, 2) now gives", marshal.dumps(want, 2).hex())
    else:
        print("ok", v["name"])
`, data)
	ok := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "ok ") {
			ok++
		} else {
			t.Error(l)
		}
	}
	if ok < 30 {
		t.Errorf("only %d vectors checked by Python", ok)
	}
}

// TestPythonRoundTrip sends a Go-encoded environ-like value through marshal.loads and
// marshal.dumps(v, 2) and decodes Python's answer with Unmarshal.
func TestPythonRoundTrip(t *testing.T) {
	head := AppendDictStart(nil)
	keys := []string{}
	for i := 0; i < 40; i++ {
		k := "HTTP_X_" + strings.Repeat("K", i)
		keys = append(keys, k)
		head = AppendLatin1Str(AppendStr(head, k), "v\xe9"+strings.Repeat("\xff", i))
	}
	head = AppendBytes(AppendStr(head, "raw"), []byte{0, 1, 2})
	head = AppendInt(AppendStr(head, "n"), -7)
	head = AppendDictEnd(head)
	lines := python(t, `import marshal, sys
v = marshal.loads(bytes.fromhex(sys.stdin.read()))
assert v["HTTP_X_KK"] == "v\xe9\xff\xff", v["HTTP_X_KK"]
print(marshal.dumps(v, 2).hex())`, []byte(hex.EncodeToString(head)))
	back, _ := hex.DecodeString(lines[0])
	got, _, err := Unmarshal(back)
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	for i, k := range keys {
		if want := "vé" + strings.Repeat("ÿ", i); m[k] != want {
			t.Errorf("%s = %q; want %q", k, m[k], want)
		}
	}
	if m["n"] != int64(-7) || !bytes.Equal(m["raw"].([]byte), []byte{0, 1, 2}) {
		t.Errorf("n, raw = %v, %v", m["n"], m["raw"])
	}
}

// TestPythonResponseHeads decodes heads written by marshal.dumps(obj, 2).
func TestPythonResponseHeads(t *testing.T) {
	heads := []string{
		`("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])`,
		`("404 Not Found", [])`,
		`("200 OK", [("X-Latin", "caf\xe9 \xff"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])`,
		`("200 OK", [["X-List", "pairs as lists"]])`,
		`("200 OK", [("X-Bad", "snow \u2603")])`,
		`("200 OK", [("X-" + "a" * 300, "b" * 70000)])`,
	}
	in, _ := json.Marshal(heads)
	lines := python(t, `import json, marshal, sys
for h in json.load(sys.stdin):
    print(marshal.dumps(eval(h), 2).hex())`, in)
	want := []struct{ status, headers, err string }{
		{"200 OK", "Content-Type: text/plain|Content-Length: 13|", ""},
		{"404 Not Found", "", ""},
		{"200 OK", "X-Latin: caf\xe9 \xff|Set-Cookie: a=1|Set-Cookie: b=2|", ""},
		{"200 OK", "X-List: pairs as lists|", ""},
		{"", "", `value of header "X-Bad" contains U+2603`},
		{"200 OK", "X-" + strings.Repeat("a", 300) + ": " + strings.Repeat("b", 70000) + "|", ""},
	}
	for i, l := range lines {
		b, _ := hex.DecodeString(l)
		status, hdrs, err := DecodeResponseHead(b, nil)
		var sb strings.Builder
		for _, h := range hdrs {
			sb.WriteString(string(h[0]) + ": " + string(h[1]) + "|")
		}
		if w := want[i]; w.err != "" {
			if err == nil || !strings.Contains(err.Error(), w.err) {
				t.Errorf("head %d: error %v; want one containing %q", i, err, w.err)
			}
		} else if err != nil || string(status) != w.status || sb.String() != w.headers {
			t.Errorf("head %d: got %q, %q, %v; want %q, %q", i, status, sb.String(), err, w.status, w.headers)
		}
	}
}

// TestPythonMarshalVersions pins what each marshal version writes for a head with
// interned strings: version 2 (what the runtime must use) decodes; versions 3 and 4
// add FLAG_REF and are refused with a hint.
func TestPythonMarshalVersions(t *testing.T) {
	lines := python(t, `import marshal, sys
h = (sys.intern("200 OK"), [(sys.intern("Content-Type"), sys.intern("text/plain"))])
for v in (2, 3, 4):
    print(marshal.dumps(h, v).hex())`, nil)
	for i, l := range lines {
		b, _ := hex.DecodeString(l)
		status, hdrs, err := DecodeResponseHead(b, nil)
		_, _, uerr := Unmarshal(b)
		if i == 0 {
			if err != nil || uerr != nil || string(status) != "200 OK" || len(hdrs) != 1 {
				t.Errorf("version 2: %q, %d headers, %v, %v; want 200 OK, 1, no error", status, len(hdrs), err, uerr)
			}
			continue
		}
		for _, e := range []error{err, uerr} {
			if e == nil || !strings.Contains(e.Error(), "marshal.dumps(obj, 2)") {
				t.Errorf("version %d: error %v; want a hint to use marshal.dumps(obj, 2)", i+2, e)
			}
		}
	}
}
