package logging

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func hdrs(kv ...string) []Header {
	var hs []Header
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, Header{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return hs
}

// observedEntry is the request behind the line observed from gunicorn 26.1
// in reference/gunicorn.md §3.9.
func observedEntry() *AccessEntry {
	end := time.Date(2026, 11, 26, 6, 2, 53, 0, time.UTC)
	d := 1234567 * time.Microsecond
	return &AccessEntry{
		RemoteAddr:      "127.0.0.1",
		Method:          []byte("GET"),
		RawURI:          []byte("/foo?x=1"),
		Path:            []byte("/foo"),
		Query:           []byte("x=1"),
		Proto:           "HTTP/1.1",
		Status:          200,
		BytesSent:       2,
		RequestHeaders:  hdrs("Host", "127.0.0.1:18123", "User-Agent", "test-agent", "Accept", "*/*"),
		ResponseHeaders: hdrs("Server", "gunicorn", "Content-Type", "text/plain", "Content-Length", "2"),
		Environ: func(k string) (string, bool) {
			switch k {
			case "remote_port":
				return "54321", true
			case "wsgi.url_scheme":
				return "http", true
			case "quoted":
				return `a"b`, true
			}
			return "", false
		},
		Start:    end.Add(-d),
		Duration: d,
		Pid:      6237,
	}
}

func render(t *testing.T, format string, e *AccessEntry) string {
	t.Helper()
	f, err := CompileAccessFormat(format)
	if err != nil {
		t.Fatalf("CompileAccessFormat(%q): %v", format, err)
	}
	return string(f.Append(nil, e))
}

func TestAccessObservedDefault(t *testing.T) {
	got := render(t, DefaultAccessLogFormat, observedEntry())
	want := `127.0.0.1 - - [26/Nov/2026:06:02:53 +0000] "GET /foo?x=1 HTTP/1.1" 200 2 "-" "test-agent"`
	if got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
}

func TestAccessAtoms(t *testing.T) {
	mod := func(f func(e *AccessEntry)) *AccessEntry { e := observedEntry(); f(e); return e }
	tests := []struct {
		name   string
		format string
		entry  *AccessEntry
		want   string
	}{
		{"h", "%(h)s", nil, "127.0.0.1"},
		{"h ipv6", "%(h)s", mod(func(e *AccessEntry) { e.RemoteAddr = "::1" }), "::1"},
		{"l", "%(l)s", nil, "-"},
		{"u absent", "%(u)s", nil, "-"},
		{"u basic", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Basic dXNlcjpwYXNz") // user:pass
		}), "user"},
		{"u lowercase scheme, padded", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("authorization", "basic   dXNlcjpwYXNz  ")
		}), "user"},
		{"u no colon", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Basic dXNlcg==") // user
		}), "user"},
		{"u empty user", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Basic OnB3") // :pw
		}), "-"},
		{"u bad base64", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Basic !!!")
		}), "-"},
		{"u bearer", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Bearer dXNlcjpwYXNz")
		}), "-"},
		{"u quote escaped", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Basic YSJiOnB3") // a"b:pw
		}), `a\"b`},
		{"u invalid utf-8", "%(u)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Authorization", "Basic /w==") // 0xff
		}), "-"},
		{"t", "%(t)s", nil, "[26/Nov/2026:06:02:53 +0000]"},
		{"r", "%(r)s", nil, "GET /foo?x=1 HTTP/1.1"},
		{"r raw target kept", "%(r)s", mod(func(e *AccessEntry) {
			e.RawURI = []byte("/a%20b?q=%22")
		}), "GET /a%20b?q=%22 HTTP/1.1"},
		{"r quote escaped", "%(r)s", mod(func(e *AccessEntry) { e.RawURI = []byte(`/"x"`) }), `GET /\"x\" HTTP/1.1`},
		{"s", "%(s)s", nil, "200"},
		{"s 404", "%(s)s", mod(func(e *AccessEntry) { e.Status = 404 }), "404"},
		{"m", "%(m)s", nil, "GET"},
		{"U", "%(U)s", nil, "/foo"},
		{"q", "%(q)s", nil, "x=1"},
		{"q empty is empty", "[%(q)s]", mod(func(e *AccessEntry) { e.Query = nil }), "[]"},
		{"H", "%(H)s", nil, "HTTP/1.1"},
		{"B", "%(B)s", nil, "2"},
		{"B zero", "%(B)s", mod(func(e *AccessEntry) { e.BytesSent = 0 }), "0"},
		{"B unknown", "%(B)s", mod(func(e *AccessEntry) { e.BytesSent = -1 }), "None"},
		{"b", "%(b)s", nil, "2"},
		{"b zero is 0", "%(b)s", mod(func(e *AccessEntry) { e.BytesSent = 0 }), "0"},
		{"b unknown", "%(b)s", mod(func(e *AccessEntry) { e.BytesSent = -1 }), "-"},
		{"f absent", "%(f)s", nil, "-"},
		{"f", "%(f)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Referer", "http://x/")
		}), "http://x/"},
		{"f duplicates joined", "%(f)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("Referer", "a", "REFERER", "b")
		}), "a,b"},
		{"a", "%(a)s", nil, "test-agent"},
		{"a quotes escaped", "%(a)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("User-Agent", `say "hi"`)
		}), `say \"hi\"`},
		{"a backslash not escaped", "%(a)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("User-Agent", `a\b`)
		}), `a\b`},
		{"T", "%(T)s", nil, "1"},
		{"M", "%(M)s", nil, "1234"},
		{"D", "%(D)s", nil, "1234567"},
		{"L", "%(L)s", nil, "1.234567"},
		{"L small", "%(L)s", mod(func(e *AccessEntry) { e.Duration = 42 * time.Microsecond }), "0.000042"},
		{"T M D L negative clamps", "%(T)s %(M)s %(D)s %(L)s", mod(func(e *AccessEntry) { e.Duration = -time.Second }), "0 0 0 0.000000"},
		{"p", "%(p)s", nil, "<6237>"},
		{"{h}i", "%({user-agent}i)s", nil, "test-agent"},
		{"{h}i case-insensitive", "%({User-Agent}i)s", nil, "test-agent"},
		{"{h}i suffix case", "%({User-Agent}I)s", nil, "test-agent"},
		{"{h}i absent", "%({x-forwarded-for}i)s", nil, "-"},
		{"{h}i last wins", "%({x-a}i)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("X-A", "1", "x-a", "2")
		}), "2"},
		{"{h}i quote escaped", "%({x-a}i)s", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("X-A", `"q"`)
		}), `\"q\"`},
		{"{h}o", "%({content-type}o)s", nil, "text/plain"},
		{"{h}o absent", "%({etag}o)s", nil, "-"},
		{"{k}e", "%({REMOTE_PORT}e)s", nil, "54321"},
		{"{k}e dotted", "%({wsgi.url_scheme}e)s", nil, "http"},
		{"{k}e quote escaped", "%({QUOTED}e)s", nil, `a\"b`},
		{"{k}e absent", "%({NOPE}e)s", nil, "-"},
		{"{k}e nil environ", "%({REMOTE_PORT}e)s", mod(func(e *AccessEntry) { e.Environ = nil }), "-"},
		{"unknown atom", "%(zz)s", nil, "-"},
		{"unknown brace suffix", "%({x}z)s", nil, "-"},
		{"brace without suffix", "%({x})s", nil, "-"},
		{"plain names are case-sensitive", "%(R)s", nil, "-"},
		{"literal percent", "100%% %(s)s", nil, "100% 200"},
		{"literal only", "hello", nil, "hello"},
		{"empty", "", nil, ""},
		{"d conversion", "%(s)d %(B)i", nil, "200 2"},
		{"width right", "[%(s)5s]", nil, "[  200]"},
		{"width left", "[%(s)-5s]", nil, "[200  ]"},
		{"precision", "[%(a).4s]", nil, "[test]"},
		{"width counts runes", "[%(a)3s]", mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("User-Agent", "é")
		}), "[  é]"},
		{"zero pad d", "[%(B)05d]", nil, "[00002]"},
		{"zero ignored for s", "[%(B)05s]", nil, "[    2]"},
		{"nested parens in name", "%(a(b)c)s", nil, "-"},
		{"length modifier ignored", "%(s)ld", nil, "200"},
		{"json style", `{"status": %(s)s, "ua": "%(a)s"}`, mod(func(e *AccessEntry) {
			e.RequestHeaders = hdrs("User-Agent", `x"y`)
		}), `{"status": 200, "ua": "x\"y"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.entry
			if e == nil {
				e = observedEntry()
			}
			if got := render(t, tt.format, e); got != tt.want {
				t.Errorf("format %q: got %q; want %q", tt.format, got, tt.want)
			}
		})
	}
}

func TestAccessTimeUsesLocalZone(t *testing.T) {
	// Not parallel: swaps time.Local, restored before returning.
	old := time.Local
	time.Local = time.FixedZone("IST", 5*3600+1800)
	defer func() { time.Local = old }()
	e := observedEntry()
	if got, want := render(t, "%(t)s", e), "[26/Nov/2026:11:32:53 +0530]"; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
}

func TestAccessTimeCache(t *testing.T) {
	f, err := CompileAccessFormat("%(t)s")
	if err != nil {
		t.Fatal(err)
	}
	e := observedEntry()
	for i, want := range []string{
		"[26/Nov/2026:06:02:53 +0000]",
		"[26/Nov/2026:06:02:53 +0000]", // cached
		"[26/Nov/2026:06:02:54 +0000]",
		"[26/Nov/2026:06:02:52 +0000]", // older than the cache: not cached, still right
		"[26/Nov/2026:06:02:54 +0000]",
	} {
		switch i {
		case 2, 4:
			e.Start = observedEntry().Start.Add(time.Second)
		case 3:
			e.Start = observedEntry().Start.Add(-time.Second)
		}
		if got := string(f.Append(nil, e)); got != want {
			t.Errorf("step %d: got %q; want %q", i, got, want)
		}
	}
}

func TestCompileAccessFormatErrors(t *testing.T) {
	tests := []struct {
		format string
		want   string // substring of the error
	}{
		{"%s", `"%s" is not a named atom`},
		{"%(h", "missing ')'"},
		{"%(h)", "has no conversion"},
		{"%(h)x", "unsupported conversion 'x'"},
		{"%(h)r", "unsupported conversion 'r'"},
		{"abc%", "incomplete format"},
		{"%(h)99999999s", "width too large"},
	}
	for _, tt := range tests {
		_, err := CompileAccessFormat(tt.format)
		if err == nil {
			t.Errorf("CompileAccessFormat(%q): got nil error; want one containing %q", tt.format, tt.want)
			continue
		}
		if !errors.Is(err, ErrBadAccessFormat) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.format) {
			t.Errorf("CompileAccessFormat(%q): got %v; want ErrBadAccessFormat naming the format and %q", tt.format, err, tt.want)
		}
	}
}

func TestAccessAppendNoAllocs(t *testing.T) {
	all := `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(m)s %(U)s %(q)s %(H)s %(B)s %(b)s "%(f)s" "%(a)s" %(T)s %(M)s %(D)s %(L)s %(p)s %({user-agent}i)s %({content-type}o)s %({remote_port}e)s %(zz)s %(s)5s`
	for _, format := range []string{DefaultAccessLogFormat, all} {
		f, err := CompileAccessFormat(format)
		if err != nil {
			t.Fatal(err)
		}
		e := observedEntry()
		e.RequestHeaders = append(e.RequestHeaders, Header{[]byte("Authorization"), []byte("Basic dXNlcjpwYXNz")})
		buf := make([]byte, 0, 1024)
		allocs := testing.AllocsPerRun(200, func() { buf = f.Append(buf[:0], e) })
		if allocs != 0 {
			t.Errorf("format %q: got %v allocs per line; want 0", format, allocs)
		}
	}
}

func BenchmarkAccessAppendDefault(b *testing.B) {
	f, _ := CompileAccessFormat(DefaultAccessLogFormat)
	e := observedEntry()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], e)
	}
}

func BenchmarkAccessAppendAllAtoms(b *testing.B) {
	f, _ := CompileAccessFormat(`%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(m)s %(U)s %(q)s %(H)s %(B)s %(b)s "%(f)s" "%(a)s" %(T)s %(M)s %(D)s %(L)s %(p)s %({user-agent}i)s %({content-type}o)s %({remote_port}e)s`)
	e := observedEntry()
	e.RequestHeaders = append(e.RequestHeaders, Header{[]byte("Authorization"), []byte("Basic dXNlcjpwYXNz")})
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], e)
	}
}
