package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Tuple marks a []any that AppendValue writes as a tuple rather than a list.
// Unmarshal returns tuples as plain []any.
type Tuple []any

// MaxDepth bounds container nesting in Unmarshal, so hostile input cannot exhaust the
// stack. Heads nest two levels deep.
const MaxDepth = 32

// ErrMarshal is wrapped by every marshal decoding error.
var ErrMarshal = errors.New("wire: bad marshal data")

func marshalErr(off int, format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrMarshal, off, fmt.Sprintf(format, args...))
}

// decoder walks marshal bytes. Every count read from the input is checked against the
// bytes remaining (each element takes at least one byte), so allocations stay
// proportional to the input size.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) u32() (uint32, error) {
	if len(d.b)-d.off < 4 {
		return 0, marshalErr(d.off, "truncated (need a 4-byte length)")
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

// take returns the next n bytes, aliasing the input.
func (d *decoder) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)-d.off) {
		return nil, marshalErr(d.off, "truncated (need %d bytes, have %d)", n, len(d.b)-d.off)
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s, nil
}

func (d *decoder) count() (int, error) {
	n, err := d.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n) > uint64(len(d.b)-d.off) {
		return 0, marshalErr(d.off, "container of %d items in %d remaining bytes", n, len(d.b)-d.off)
	}
	return int(n), nil
}

// strBytes reads the payload of any str type. ascii reports that CPython decodes it
// as latin-1 (types a A z Z) rather than UTF-8 (u t). ok is false if typ is not a str.
func (d *decoder) strBytes(typ byte) (s []byte, ascii, ok bool, err error) {
	var n uint64
	switch typ {
	case mShortASCII, mShortIntern:
		if d.off >= len(d.b) {
			return nil, false, true, marshalErr(d.off, "truncated (need a 1-byte length)")
		}
		n = uint64(d.b[d.off])
		d.off++
		ascii = true
	case mASCII, mASCIIIntern:
		v, err := d.u32()
		if err != nil {
			return nil, false, true, err
		}
		n, ascii = uint64(v), true
	case mUnicode, mInterned:
		v, err := d.u32()
		if err != nil {
			return nil, false, true, err
		}
		n = uint64(v)
	default:
		return nil, false, false, nil
	}
	s, err = d.take(n)
	return s, ascii, true, err
}

func (d *decoder) typ() (byte, error) {
	if d.off >= len(d.b) {
		return 0, marshalErr(d.off, "truncated (need a type code)")
	}
	t := d.b[d.off]
	if t&flagRef != 0 {
		return 0, marshalErr(d.off, "type %q has FLAG_REF set: use marshal.dumps(obj, 2)", t&^flagRef)
	}
	d.off++
	return t, nil
}

// Unmarshal decodes one marshal value from the start of b, as written by
// marshal.dumps(obj, 2), and returns it with the number of bytes used. Types map to
// Go as: None → nil, bool → bool, int → int64, bytes → []byte (a copy),
// str → string, tuple and list → []any, dict → map[string]any (str keys only).
// References, FLAG_REF, floats, sets, code objects and ints outside int64 are errors.
func Unmarshal(b []byte) (v any, n int, err error) {
	d := decoder{b: b}
	v, err = d.value(0)
	if err != nil {
		return nil, 0, err
	}
	return v, d.off, nil
}

func (d *decoder) value(depth int) (any, error) {
	start := d.off
	t, err := d.typ()
	if err != nil {
		return nil, err
	}
	if s, ascii, ok, err := d.strBytes(t); ok {
		if err != nil {
			return nil, err
		}
		return decodeStr(s, ascii, start)
	}
	switch t {
	case mNone:
		return nil, nil
	case mTrue:
		return true, nil
	case mFalse:
		return false, nil
	case mInt:
		v, err := d.u32()
		return int64(int32(v)), err
	case mLong:
		return d.long()
	case mBytes:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		s, err := d.take(uint64(n))
		if err != nil {
			return nil, err
		}
		return append([]byte{}, s...), nil
	case mSmallTuple, mTuple, mList:
		if depth >= MaxDepth {
			return nil, marshalErr(start, "nested deeper than %d", MaxDepth)
		}
		var n int
		if t == mSmallTuple {
			if d.off >= len(d.b) {
				return nil, marshalErr(d.off, "truncated (need a 1-byte count)")
			}
			n = int(d.b[d.off])
			d.off++
			if n > len(d.b)-d.off {
				return nil, marshalErr(d.off, "container of %d items in %d remaining bytes", n, len(d.b)-d.off)
			}
		} else if n, err = d.count(); err != nil {
			return nil, err
		}
		vs := make([]any, n)
		for i := range vs {
			if vs[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return vs, nil
	case mDict:
		if depth >= MaxDepth {
			return nil, marshalErr(start, "nested deeper than %d", MaxDepth)
		}
		m := map[string]any{}
		for {
			koff := d.off
			kt, err := d.typ()
			if err != nil {
				return nil, err
			}
			if kt == mNull {
				return m, nil
			}
			s, ascii, ok, err := d.strBytes(kt)
			if !ok {
				return nil, marshalErr(koff, "dict key of type %q: only str keys are supported", kt)
			}
			if err != nil {
				return nil, err
			}
			k, err := decodeStr(s, ascii, koff)
			if err != nil {
				return nil, err
			}
			if m[k], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
	case mRef:
		return nil, marshalErr(start, "reference ('r') found: use marshal.dumps(obj, 2), which writes none")
	}
	return nil, marshalErr(start, "unsupported type code %q", t)
}

// decodeStr converts a marshal str payload to a Go string. ASCII-typed payloads are
// latin-1 in CPython (marshal.loads(b'z\x01\xe9') == 'é'), so bytes ≥ 0x80 expand.
func decodeStr(s []byte, ascii bool, off int) (string, error) {
	if ascii {
		if isASCII(s) {
			return string(s), nil
		}
		r := make([]byte, 0, 2*len(s))
		return string(appendLatin1Raw(r, s)), nil
	}
	if !utf8.Valid(s) {
		return "", marshalErr(off, "str is not valid UTF-8 (lone surrogates are not supported)")
	}
	return string(s), nil
}

func appendLatin1Raw(dst, b []byte) []byte {
	for _, c := range b {
		if c < 0x80 {
			dst = append(dst, c)
		} else {
			dst = append(dst, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return dst
}

// long decodes TYPE_LONG (ints outside int32: base-2¹⁵ digits, least significant
// first, sign in the digit count) when the value fits int64.
func (d *decoder) long() (any, error) {
	start := d.off - 1
	v, err := d.u32()
	if err != nil {
		return nil, err
	}
	n := int32(v)
	neg := n < 0
	cnt := int64(n)
	if neg {
		cnt = -cnt
	}
	if cnt > 5 {
		return nil, marshalErr(start, "int of %d 15-bit digits does not fit int64", cnt)
	}
	digits, err := d.take(uint64(2 * cnt))
	if err != nil {
		return nil, err
	}
	var mag uint64
	for i := int(cnt) - 1; i >= 0; i-- {
		dg := uint64(binary.LittleEndian.Uint16(digits[2*i:]))
		if dg > 0x7FFF {
			return nil, marshalErr(start, "int digit 0x%x out of range", dg)
		}
		if i == int(cnt)-1 && dg == 0 {
			return nil, marshalErr(start, "unnormalized int (top digit is 0)")
		}
		if mag>>(64-15) != 0 {
			return nil, marshalErr(start, "int does not fit int64")
		}
		mag = mag<<15 | dg
	}
	switch {
	case !neg && mag <= 1<<63-1:
		return int64(mag), nil
	case neg && mag <= 1<<63:
		return int64(-mag), nil
	}
	return nil, marshalErr(start, "int does not fit int64")
}

// DecodeResponseHead decodes the marshal head of a RESPONSE payload,
// (status: str, headers: list[tuple[str, str]]) as written by marshal.dumps(obj, 2),
// into latin-1 bytes (PEP 3333). Tuples and lists are accepted for either sequence.
// Headers are appended to hdrs (pass a reused hdrs[:0] to avoid allocating). Status
// and header bytes alias b when the str was ASCII; a non-ASCII str gets its own
// allocation. A code point above U+00FF is an error naming the header.
func DecodeResponseHead(b []byte, hdrs [][2][]byte) (status []byte, headers [][2][]byte, err error) {
	d := decoder{b: b}
	if n, err := d.seq(); err != nil {
		return nil, hdrs, err
	} else if n != 2 {
		return nil, hdrs, marshalErr(0, "response head has %d items; want (status, headers)", n)
	}
	if status, err = d.latin1("status", nil); err != nil {
		return nil, hdrs, err
	}
	n, err := d.seq()
	if err != nil {
		return nil, hdrs, err
	}
	for i := 0; i < n; i++ {
		off := d.off
		if m, err := d.seq(); err != nil {
			return nil, hdrs, err
		} else if m != 2 {
			return nil, hdrs, marshalErr(off, "header %d has %d items; want (name, value)", i, m)
		}
		var h [2][]byte
		if h[0], err = d.latin1("header name", nil); err != nil {
			return nil, hdrs, err
		}
		if h[1], err = d.latin1("value of header", h[0]); err != nil {
			return nil, hdrs, err
		}
		hdrs = append(hdrs, h)
	}
	if d.off != len(b) {
		return nil, hdrs, marshalErr(d.off, "%d trailing bytes after the response head", len(b)-d.off)
	}
	return status, hdrs, nil
}

// seq reads the start of a tuple or list and returns its item count.
func (d *decoder) seq() (int, error) {
	off := d.off
	t, err := d.typ()
	if err != nil {
		return 0, err
	}
	switch t {
	case mSmallTuple:
		if d.off >= len(d.b) {
			return 0, marshalErr(d.off, "truncated (need a 1-byte count)")
		}
		d.off++
		return int(d.b[d.off-1]), nil
	case mTuple, mList:
		return d.count()
	}
	return 0, marshalErr(off, "got type %q; want a tuple or list", t)
}

// latin1 reads a str and returns its latin-1 bytes. what and name describe it in errors.
func (d *decoder) latin1(what string, name []byte) ([]byte, error) {
	off := d.off
	t, err := d.typ()
	if err != nil {
		return nil, err
	}
	s, ascii, ok, err := d.strBytes(t)
	if !ok {
		return nil, marshalErr(off, "%s%s has type %q; want str", what, quoteName(name), t)
	}
	if err != nil || ascii || isASCII(s) {
		return s, err
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return nil, marshalErr(off, "%s%s is not valid UTF-8", what, quoteName(name))
		}
		if r > 0xFF {
			return nil, marshalErr(off, "%s%s contains %U, which is not latin-1: HTTP headers must be latin-1 (PEP 3333); encode the value first", what, quoteName(name), r)
		}
		out = append(out, byte(r))
		i += size
	}
	return out, nil
}

func quoteName(name []byte) string {
	if name == nil {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}
