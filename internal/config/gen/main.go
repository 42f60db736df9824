// Command gen writes docs/settings.md from the settings table:
// go run ./internal/config/gen -o docs/settings.md
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gonicorn/gonicorn/internal/config"
)

func main() {
	out := flag.String("o", "docs/settings.md", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, config.Markdown(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
