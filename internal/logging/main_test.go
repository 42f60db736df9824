package logging

import (
	"os"
	"testing"
	"time"
)

// The expected texts in these tests are in UTC, like the observed gunicorn
// lines in the reference; time.Local is set once here, before any test runs,
// because changing it later would race with parallel tests.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}
