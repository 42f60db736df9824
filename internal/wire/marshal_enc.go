package wire

import (
	"encoding/binary"
	"fmt"
)

// Marshal type codes (CPython Python/marshal.c). flagRef marks an object a later 'r'
// may refer to; version-2 output never sets it.
const (
	mNull        = '0' // ends a dict
	mNone        = 'N'
	mFalse       = 'F'
	mTrue        = 'T'
	mInt         = 'i'
	mLong        = 'l'
	mBytes       = 's'
	mInterned    = 't'
	mRef         = 'r'
	mUnicode     = 'u'
	mASCII       = 'a'
	mASCIIIntern = 'A'
	mShortASCII  = 'z'
	mShortIntern = 'Z'
	mTuple       = '('
	mSmallTuple  = ')'
	mList        = '['
	mDict        = '{'
	flagRef      = 0x80
)

// The Append functions write CPython marshal values that marshal.loads reads back
// (any marshal version). They never allocate beyond growing dst. A dict is
// AppendDictStart, then key and value pairs, then AppendDictEnd; tuples and lists are
// their start followed by exactly n values.

// AppendNone appends None.
func AppendNone(dst []byte) []byte { return append(dst, mNone) }

// AppendBool appends True or False.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, mTrue)
	}
	return append(dst, mFalse)
}

// AppendInt appends an int.
func AppendInt(dst []byte, v int32) []byte {
	return binary.LittleEndian.AppendUint32(append(dst, mInt), uint32(v))
}

// AppendBytes appends a bytes object.
func AppendBytes(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(append(dst, mBytes), uint32(len(b)))
	return append(dst, b...)
}

// AppendDictStart opens a dict.
func AppendDictStart(dst []byte) []byte { return append(dst, mDict) }

// AppendDictEnd closes a dict.
func AppendDictEnd(dst []byte) []byte { return append(dst, mNull) }

// AppendTupleStart opens a tuple of n values.
func AppendTupleStart(dst []byte, n int) []byte {
	if n < 256 {
		return append(dst, mSmallTuple, byte(n))
	}
	return binary.LittleEndian.AppendUint32(append(dst, mTuple), uint32(n))
}

// AppendListStart opens a list of n values.
func AppendListStart(dst []byte, n int) []byte {
	return binary.LittleEndian.AppendUint32(append(dst, mList), uint32(n))
}

// AppendStr appends a str holding the UTF-8 string s. s must be valid UTF-8: Python
// rejects invalid UTF-8 when it loads the head.
func AppendStr(dst []byte, s string) []byte {
	if len(s) < 256 && isASCII(s) {
		dst = append(dst, mShortASCII, byte(len(s)))
		return append(dst, s...)
	}
	dst = binary.LittleEndian.AppendUint32(append(dst, mUnicode), uint32(len(s)))
	return append(dst, s...)
}

// AppendLatin1 appends the str whose code points are the bytes of b (PEP 3333's
// latin-1 decoding of header bytes). Bytes ≥ 0x80 become two-byte UTF-8.
func AppendLatin1(dst, b []byte) []byte { return appendLatin1(dst, b) }

// AppendLatin1Str is AppendLatin1 for a string holding raw (not UTF-8) bytes.
func AppendLatin1Str(dst []byte, s string) []byte { return appendLatin1(dst, s) }

func appendLatin1[T ~string | ~[]byte](dst []byte, b T) []byte {
	if isASCII(b) {
		if len(b) < 256 {
			dst = append(dst, mShortASCII, byte(len(b)))
		} else {
			dst = binary.LittleEndian.AppendUint32(append(dst, mUnicode), uint32(len(b)))
		}
		return append(dst, b...)
	}
	high := 0
	for i := 0; i < len(b); i++ {
		high += int(b[i] >> 7)
	}
	dst = binary.LittleEndian.AppendUint32(append(dst, mUnicode), uint32(len(b)+high))
	for i := 0; i < len(b); i++ {
		if c := b[i]; c < 0x80 {
			dst = append(dst, c)
		} else {
			dst = append(dst, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return dst
}

// isASCII checks eight bytes per step: header values are mostly ASCII and this runs
// for every value of every request.
func isASCII[T ~string | ~[]byte](s T) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// AppendValue appends a generic Go value: nil, bool, int (any Go integer fitting int32),
// string (as UTF-8 str), []byte, []any (list), Tuple, map[string]any (dict, keys in
// map order). It is for tests and cold paths; the hot path uses the typed Append
// functions, which do not allocate.
func AppendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return AppendNone(dst), nil
	case bool:
		return AppendBool(dst, v), nil
	case int:
		if int(int32(v)) != v {
			return dst, fmt.Errorf("wire: int %d does not fit marshal's int32", v)
		}
		return AppendInt(dst, int32(v)), nil
	case int32:
		return AppendInt(dst, v), nil
	case int64:
		if int64(int32(v)) != v {
			return dst, fmt.Errorf("wire: int %d does not fit marshal's int32", v)
		}
		return AppendInt(dst, int32(v)), nil
	case string:
		return AppendStr(dst, v), nil
	case []byte:
		return AppendBytes(dst, v), nil
	case Tuple:
		dst = AppendTupleStart(dst, len(v))
		return appendValues(dst, v)
	case []any:
		dst = AppendListStart(dst, len(v))
		return appendValues(dst, v)
	case map[string]any:
		dst = AppendDictStart(dst)
		var err error
		for k, e := range v {
			dst = AppendStr(dst, k)
			if dst, err = AppendValue(dst, e); err != nil {
				return dst, err
			}
		}
		return AppendDictEnd(dst), nil
	}
	return dst, fmt.Errorf("wire: cannot marshal %T", v)
}

func appendValues(dst []byte, vs []any) ([]byte, error) {
	var err error
	for _, e := range vs {
		if dst, err = AppendValue(dst, e); err != nil {
			return dst, err
		}
	}
	return dst, nil
}
