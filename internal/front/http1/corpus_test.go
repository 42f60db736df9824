package http1

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusDir = "../../../../shared/http-corpus"

type corpusBody struct {
	Text   *string `json:"text"`
	Base64 *string `json:"base64"`
}

type corpusRequest struct {
	Method   string      `json:"method"`
	Target   string      `json:"target"`
	Path     string      `json:"path"`
	Query    string      `json:"query"`
	Fragment string      `json:"fragment"`
	Version  [2]int      `json:"version"`
	Headers  [][2]string `json:"headers"`
	Body     corpusBody  `json:"body"`
	Trailers [][2]string `json:"trailers"`
}

type corpusCase struct {
	Name     string          `json:"name"`
	Settings map[string]any  `json:"settings"`
	Requests []corpusRequest `json:"requests"`
	Error    string          `json:"error"`
	Status   int             `json:"status"`
}

// latin1 turns a JSON string (Python str decoded from latin-1) back to bytes.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return s
		}
		b = append(b, byte(r))
	}
	return string(b)
}

func (b corpusBody) bytes(t *testing.T) string {
	switch {
	case b.Base64 != nil:
		d, err := base64.StdEncoding.DecodeString(*b.Base64)
		if err != nil {
			t.Fatal(err)
		}
		return string(d)
	case b.Text != nil:
		return latin1(*b.Text)
	}
	return ""
}

func applySettings(t *testing.T, settings map[string]any) *Config {
	t.Helper()
	o := DefaultOptions()
	for k, v := range settings {
		num := func() int { return int(v.(float64)) }
		switch k {
		case "limit_request_line":
			o.RequestLine = num()
		case "limit_request_fields":
			o.Fields = num()
		case "limit_request_field_size":
			o.FieldSize = num()
		case "permit_obsolete_folding":
			o.PermitObsoleteFolding = v.(bool)
		case "strip_header_spaces":
			o.StripHeaderSpaces = v.(bool)
		case "permit_unconventional_http_method":
			o.PermitUnconventionalMethod = v.(bool)
		case "permit_unconventional_http_version":
			o.PermitUnconventionalVersion = v.(bool)
		case "casefold_http_method":
			o.CasefoldMethod = v.(bool)
		case "header_map":
			o.HeaderMap = v.(string)
		case "proxy_protocol":
			o.ProxyProtocol = v.(string)
		case "forwarded_allow_ips":
			o.ForwardedAllowIPs = strings.Split(v.(string), ",")
		case "proxy_allow_ips":
			o.ProxyAllowIPs = strings.Split(v.(string), ",")
		default:
			t.Fatalf("setting %q not supported by the corpus runner; add it to applySettings", k)
		}
	}
	cfg, err := NewConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// oneByteReader returns at most one byte per Read.
type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// chunkReader returns random small chunks.
type chunkReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if n := 1 + c.rnd.Intn(17); len(p) > n {
		p = p[:n]
	}
	return c.r.Read(p)
}

type parsedRequest struct {
	req  corpusRequest
	body string
}

func hdrs(hs []Header) [][2]string {
	out := [][2]string{}
	for i := range hs {
		out = append(out, [2]string{string(hs[i].AppendUpperName(nil)), string(hs[i].Value)})
	}
	return out
}

// runAll parses every request on the connection, reading each body fully,
// the way a front end would; it stops when the connection must close.
func runAll(cfg *Config, r io.Reader) ([]parsedRequest, error) {
	br := bufio.NewReaderSize(r, 4096)
	p := NewParser(cfg, netip.MustParseAddr("127.0.0.1"), false)
	var req Request
	var out []parsedRequest
	for {
		err := p.ReadRequest(br, &req)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		body, err := io.ReadAll(p.Body(br, &req))
		if err != nil {
			return out, err
		}
		out = append(out, parsedRequest{corpusRequest{
			Method: string(req.Method), Target: string(req.Target), Path: string(req.Path),
			Query: string(req.Query), Fragment: string(req.Fragment), Version: [2]int{req.Major, req.Minor},
			Headers: hdrs(req.Headers), Trailers: hdrs(req.Trailers),
		}, string(body)})
		if !req.KeepAlive {
			return out, nil
		}
	}
}

func loadCorpus(t *testing.T) []string {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not found at %s: %v", corpusDir, err)
	}
	var files []string
	for _, kind := range []string{"valid", "invalid"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, kind, "*.json"))
		files = append(files, m...)
	}
	return files
}

func TestCorpus(t *testing.T) {
	files := loadCorpus(t)
	passed := 0
	for _, f := range files {
		var c corpusCase
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		raw, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".raw")
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(f)) + "/" + c.Name
		ok := t.Run(name, func(t *testing.T) {
			cfg := applySettings(t, c.Settings)
			for i := range c.Requests {
				w := &c.Requests[i]
				w.Target, w.Path = latin1(w.Target), latin1(w.Path)
				w.Query, w.Fragment = latin1(w.Query), latin1(w.Fragment)
				for _, hs := range [][][2]string{w.Headers, w.Trailers} {
					for j := range hs {
						hs[j][1] = latin1(hs[j][1])
					}
				}
				if w.Trailers == nil {
					w.Trailers = [][2]string{}
				}
			}
			readers := map[string]func() io.Reader{
				"whole": func() io.Reader { return strings.NewReader(string(raw)) },
				"1byte": func() io.Reader { return &oneByteReader{strings.NewReader(string(raw))} },
				"chunks": func() io.Reader {
					return &chunkReader{strings.NewReader(string(raw)), rand.New(rand.NewSource(int64(len(raw))))}
				},
			}
			for rname, mk := range readers {
				got, err := runAll(cfg, mk())
				if c.Error != "" {
					var he *Error
					if !errors.As(err, &he) {
						t.Fatalf("%s: got err %v (after %d requests); want %s/%d", rname, err, len(got), c.Error, c.Status)
					}
					if he.Name != c.Error || he.Status != c.Status {
						t.Fatalf("%s: got %s/%d (%s); want %s/%d", rname, he.Name, he.Status, he.Msg, c.Error, c.Status)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: got error %v after %d requests; want none", rname, err, len(got))
				}
				if len(got) != len(c.Requests) {
					t.Fatalf("%s: got %d requests; want %d", rname, len(got), len(c.Requests))
				}
				for i, want := range c.Requests {
					g := got[i]
					wantBody := want.Body.bytes(t)
					want.Body = corpusBody{}
					if gs, ws := fmt.Sprintf("%+q", []any{g.req}), fmt.Sprintf("%+q", []any{want}); gs != ws {
						t.Errorf("%s: request %d:\n got %s\nwant %s", rname, i, gs, ws)
					}
					if g.body != wantBody {
						t.Errorf("%s: request %d body: got %q; want %q", rname, i, g.body, wantBody)
					}
				}
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("corpus: %d/%d cases pass", passed, len(files))
}
