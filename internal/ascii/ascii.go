// Package ascii holds the byte-level helpers that HTTP's ASCII-only rules
// need in several packages: case-insensitive comparison that never folds
// UTF-8 (bytes.EqualFold maps the Kelvin sign to 'k'), and trimming of
// optional whitespace (RFC 9110's OWS: space and HTAB).
package ascii

// EqualFold reports whether b equals s, ignoring ASCII case only.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// TrimOWS removes leading and trailing spaces and tabs.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
