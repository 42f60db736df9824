package control

import (
	"errors"
	"fmt"
	"math"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// pyInt is Python's int(s) as gunicorn's handlers call it on a count, with
// a bound Python does not have: a count this large would fork without end.
func pyInt(s string) (int, error) {
	n, err := pytext.ParseInt(s, 10)
	if errors.Is(err, pytext.ErrTooLarge) || (err == nil && (n > math.MaxInt32 || n < math.MinInt32)) {
		return 0, fmt.Errorf("number too large: %s", pytext.Repr(s))
	}
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// pyFloat is a number that encodes as Python's json.dumps writes a float
// (3.0, not 3), so gunicornc -j prints what it prints against gunicorn.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return []byte(pytext.FloatRepr(float64(f))), nil
}
