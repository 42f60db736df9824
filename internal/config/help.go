package config

import (
	"fmt"
	"strings"
)

// Help is the -h/--help text, laid out like argparse's.
func Help() string {
	var b strings.Builder
	b.WriteString(Usage())
	b.WriteString("\noptions:\n")
	item := func(inv, help string) {
		const col = 24
		words := strings.Fields(help)
		var lines []string
		line := ""
		for _, w := range words {
			if line != "" && len(line)+1+len(w) > 80-col {
				lines = append(lines, line)
				line = w
			} else if line == "" {
				line = w
			} else {
				line += " " + w
			}
		}
		lines = append(lines, line)
		inv = "  " + inv
		if len(inv) <= col-2 {
			fmt.Fprintf(&b, "%-*s%s\n", col, inv, lines[0])
			lines = lines[1:]
		} else {
			b.WriteString(inv + "\n")
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "%*s%s\n", col, "", l)
		}
	}
	item("-h, --help", "show this help message and exit")
	item("-v, --version", "show program's version number and exit")
	for _, s := range table {
		if len(s.Flags) == 0 {
			continue
		}
		meta := s.Meta
		if meta == "" {
			meta = strings.ToUpper(s.Name)
		}
		parts := make([]string, len(s.Flags))
		for i, f := range s.Flags {
			switch s.Action {
			case ActStoreTrue, ActStoreConst:
				parts[i] = f
			case ActOptional:
				parts[i] = f + " [" + meta + "]"
			default:
				parts[i] = f + " " + meta
			}
		}
		item(strings.Join(parts, ", "), s.Doc+" ["+defaultText(s)+"]")
	}
	return b.String()
}

// VersionText is the -v/--version output.
func VersionText() string { return Prog + " (version " + Version + ")\n" }

func defaultText(s *Setting) string {
	switch {
	case s.DefaultDoc != "":
		return s.DefaultDoc
	case s.Type == TypeHook:
		return s.HookDefault
	}
	return pyStr(s.Default)
}
