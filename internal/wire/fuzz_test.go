package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"runtime"
	"testing"
)

// seedVectors adds every frame and marshal vector of testdata/wire/vectors.json.
func seedVectors(f *testing.F, frames, marshal bool) {
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		f.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		f.Fatal(err)
	}
	if frames {
		for _, v := range vf.Frames {
			b, _ := hex.DecodeString(v.Hex)
			f.Add(b)
		}
	}
	if marshal {
		for _, v := range vf.Marshal {
			b, _ := hex.DecodeString(v.Hex)
			f.Add(b)
		}
	}
}

// FuzzNext: Next never panics, uses at most len(buf) bytes, and a frame it returns
// re-encodes to exactly the bytes it consumed.
func FuzzNext(f *testing.F) {
	seedVectors(f, true, false)
	f.Fuzz(func(t *testing.T, buf []byte) {
		fr, n, err := Next(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("n = %d for %d bytes", n, len(buf))
		}
		if err != nil {
			var pe *ProtocolError
			if n != 0 || (err != ErrShort && !errors.As(err, &pe)) {
				t.Fatalf("Next = %d, %v; want 0 and ErrShort or *ProtocolError", n, err)
			}
			return
		}
		if re := AppendFrame(nil, fr.Type, fr.Flags, fr.Stream, fr.Payload); !bytes.Equal(re, buf[:n]) {
			t.Fatalf("re-encoded %x; consumed %x", re, buf[:n])
		}
	})
}

// allocBound is the most Unmarshal may allocate for an input of n bytes: every
// element costs at least one input byte, and the costliest (a map entry or a boxed
// value in a []any) stays well under this factor.
func allocBound(n int) uint64 { return 128*uint64(n) + 4096 }

// FuzzUnmarshal: Unmarshal never panics, never claims more bytes than it was given,
// and allocates at most allocBound(len(input)).
func FuzzUnmarshal(f *testing.F) {
	seedVectors(f, false, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		// TotalAlloc counts every goroutine's allocations, so a background
		// one can push a single measurement over; a real excess repeats.
		var v any
		var n int
		var err error
		used := uint64(math.MaxUint64)
		for try := 0; try < 3 && used > allocBound(len(b)); try++ {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			v, n, err = Unmarshal(b)
			runtime.ReadMemStats(&ms)
			used = ms.TotalAlloc - before
		}
		if used > allocBound(len(b)) {
			t.Fatalf("allocated %d bytes for %d input bytes (the least of 3 tries)", used, len(b))
		}
		if err != nil {
			if !errors.Is(err, ErrMarshal) || n != 0 {
				t.Fatalf("Unmarshal = %d, %v; want 0, ErrMarshal", n, err)
			}
			return
		}
		if n < 1 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		_ = v
	})
}

// FuzzDecodeResponseHead: DecodeResponseHead never panics, returns ErrMarshal on
// failure, and a head it accepts re-encodes (as latin-1 str) and decodes to the same
// status and headers.
func FuzzDecodeResponseHead(f *testing.F) {
	seedVectors(f, false, true)
	f.Add(head("200 OK", "Content-Type", "text/plain", "Content-Length", "13"))
	f.Add(head("500 Internal Server Error", "X-L", "caf\u00e9"))
	f.Fuzz(func(t *testing.T, b []byte) {
		status, hdrs, err := DecodeResponseHead(b, nil)
		if err != nil {
			if !errors.Is(err, ErrMarshal) {
				t.Fatalf("error %v is not ErrMarshal", err)
			}
			return
		}
		re := AppendLatin1(AppendTupleStart(nil, 2), status)
		re = AppendListStart(re, len(hdrs))
		for _, h := range hdrs {
			re = AppendLatin1(AppendLatin1(AppendTupleStart(re, 2), h[0]), h[1])
		}
		status2, hdrs2, err := DecodeResponseHead(re, nil)
		if err != nil || !bytes.Equal(status, status2) || len(hdrs) != len(hdrs2) {
			t.Fatalf("re-decoded %q, %d headers, %v; want %q, %d", status2, len(hdrs2), err, status, len(hdrs))
		}
		for i := range hdrs {
			if !bytes.Equal(hdrs[i][0], hdrs2[i][0]) || !bytes.Equal(hdrs[i][1], hdrs2[i][1]) {
				t.Fatalf("header %d re-decoded %q; want %q", i, hdrs2[i], hdrs[i])
			}
		}
	})
}

// FuzzU32Payloads: ParseMore and ParseWindow (the credit frames of bodies and tunnels)
// accept exactly the 4-byte payloads and give back the value AppendMore and
// AppendWindow encode.
func FuzzU32Payloads(f *testing.F) {
	f.Add([]byte{0, 0, 4, 0})
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		m, errM := ParseMore(p)
		w, errW := ParseWindow(p)
		if (errM == nil) != (len(p) == 4) || (errW == nil) != (len(p) == 4) {
			t.Fatalf("ParseMore/ParseWindow(%x) = %v, %v; want success exactly for 4 bytes", p, errM, errW)
		}
		if errM == nil && (!bytes.Equal(AppendMore(nil, m), p) || !bytes.Equal(AppendWindow(nil, w), p)) {
			t.Fatalf("%x does not round-trip: MORE %d, WINDOW %d", p, m, w)
		}
	})
}
