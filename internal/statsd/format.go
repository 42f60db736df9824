package statsd

import (
	"strconv"
	"strings"
	"time"
)

// NormalizePrefix applies gunicorn's re.sub(r"^(.+[^.]+)\.*$", r"\1.", p):
// trailing dots collapse into one, and a prefix too short to match the
// pattern ("", "a", "a.", "..") is used as it is.
func NormalizePrefix(p string) string {
	if strings.Contains(p, "\n") {
		return p // Python's '.' does not match a newline; such a prefix is not worth the rule
	}
	q := strings.TrimRight(p, ".")
	if len(q) < 2 {
		return p
	}
	return q + "."
}

// AppendCounter appends "<prefix><name>:<v>|c|@1.0[|#tags]", gunicorn's
// increment() with its default sampling rate.
func AppendCounter(b []byte, prefix, name string, v int64, tags string) []byte {
	b = appendName(b, prefix, name)
	b = strconv.AppendInt(b, v, 10)
	b = append(b, "|c|@1.0"...)
	return appendTags(b, tags)
}

// AppendGauge appends "<prefix><name>:<v>|g[|#tags]".
func AppendGauge(b []byte, prefix, name string, v int64, tags string) []byte {
	b = appendName(b, prefix, name)
	b = strconv.AppendInt(b, v, 10)
	b = append(b, "|g"...)
	return appendTags(b, tags)
}

// AppendHistogram appends "<prefix><name>:<v>|h[|#tags]".
func AppendHistogram(b []byte, prefix, name string, v int64, tags string) []byte {
	b = appendName(b, prefix, name)
	b = strconv.AppendInt(b, v, 10)
	b = append(b, "|h"...)
	return appendTags(b, tags)
}

// AppendTimer appends "<prefix><name>:<ms>|ms[|#tags]" with d in
// milliseconds as gunicorn computes them from a timedelta: microsecond
// resolution, written as Python's repr of a float ("0.0", "12.5", "1000.0").
func AppendTimer(b []byte, prefix, name string, d time.Duration, tags string) []byte {
	b = appendName(b, prefix, name)
	b = appendMillis(b, d)
	b = append(b, "|ms"...)
	return appendTags(b, tags)
}

// AppendStatus appends the gunicorn.request.status.<code> counter without
// building the name as a string first: it is sent once per request.
func AppendStatus(b []byte, prefix string, status int, tags string) []byte {
	b = append(b, prefix...)
	b = append(b, "gunicorn.request.status."...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ":1|c|@1.0"...)
	return appendTags(b, tags)
}

func appendName(b []byte, prefix, name string) []byte {
	b = append(b, prefix...)
	b = append(b, name...)
	return append(b, ':')
}

func appendTags(b []byte, tags string) []byte {
	if tags == "" {
		return b
	}
	b = append(b, "|#"...)
	return append(b, tags...)
}

// appendMillis mirrors request_time.seconds*1000 + microseconds/10**3:
// an integer part plus a float, so the sum rounds like Python's.
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	ms := float64((us/1e6)*1000) + float64(us%1e6)/1e3
	// Python's repr switches to exponent form below 1e-4 and from 1e16;
	// microsecond resolution keeps ms at 0 or >= 0.001, and 1e16 ms is
	// over 300,000 years.
	start := len(b)
	b = strconv.AppendFloat(b, ms, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}
