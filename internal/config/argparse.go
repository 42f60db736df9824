package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// This file reproduces the parts of Python's argparse (3.11) that
// gunicorn's parser exercises: long options and their unambiguous
// prefixes, --opt=value, short options with attached values and bundled
// store_true flags, nargs='?', append, one nargs='*' positional that only
// takes the first run of positional arguments, and argparse's error texts.

// Prog is the program name in usage, error and version texts.
var Prog = "gonicorn"

// Version is printed by -v/--version; the build may override it.
var Version = "0.1.0"

// Usage is argparse's usage line.
func Usage() string { return "usage: " + Prog + " [OPTIONS] [APP_MODULE]\n" }

type optKind int

const (
	optSetting optKind = iota
	optHelp
	optVersion
)

type option struct {
	flags   []string
	kind    optKind
	setting *Setting
}

func (o *option) name() string { return strings.Join(o.flags, "/") }

// assignment is one CLI value for a setting, after argparse conversion.
type assignment struct {
	setting *Setting
	value   any
}

type parsed struct {
	values      []assignment // in argparse dest order, last value per setting
	positionals []string
	action      string // "", "help" or "version"
}

var (
	options  []*option
	optIndex = map[string]*option{}
)

func init() {
	add := func(o *option) {
		options = append(options, o)
		for _, f := range o.flags {
			optIndex[f] = o
		}
	}
	add(&option{flags: []string{"-h", "--help"}, kind: optHelp})
	add(&option{flags: []string{"-v", "--version"}, kind: optVersion})
	for _, s := range table {
		if len(s.Flags) > 0 {
			add(&option{flags: s.Flags, setting: s})
		}
	}
}

var negNumber = regexp.MustCompile(`^-\d+$|^-\d*\.\d+$`)

// usageError is argparse's parser.error: usage, then "prog: error: msg", exit 2.
func usageError(format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	return &Error{Code: 2, Output: Usage() + Prog + ": error: " + msg + "\n", msg: msg}
}

type classified struct {
	opt      *option // nil: unknown option (kept for "unrecognized arguments")
	flag     string
	explicit *string
}

// classify is argparse's _parse_optional: nil means a positional argument.
func classify(arg string) (*classified, error) {
	if arg == "" || arg[0] != '-' {
		return nil, nil
	}
	if o, ok := optIndex[arg]; ok {
		return &classified{opt: o, flag: arg}, nil
	}
	if len(arg) == 1 {
		return nil, nil
	}
	if name, val, ok := strings.Cut(arg, "="); ok {
		if o, ok := optIndex[name]; ok {
			return &classified{opt: o, flag: name, explicit: &val}, nil
		}
	}
	var matches []*classified
	if strings.HasPrefix(arg, "--") {
		prefix, val, hasVal := strings.Cut(arg, "=")
		for _, o := range options {
			for _, f := range o.flags {
				if strings.HasPrefix(f, prefix) {
					c := &classified{opt: o, flag: f}
					if hasVal {
						v := val
						c.explicit = &v
					}
					matches = append(matches, c)
				}
			}
		}
	} else {
		short, rest := arg[:2], arg[2:]
		for _, o := range options {
			for _, f := range o.flags {
				if f == short {
					r := rest
					matches = append(matches, &classified{opt: o, flag: f, explicit: &r})
				} else if strings.HasPrefix(f, arg) {
					matches = append(matches, &classified{opt: o, flag: f})
				}
			}
		}
	}
	if len(matches) > 1 {
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = m.flag
		}
		return nil, usageError("ambiguous option: %s could match %s", arg, strings.Join(names, ", "))
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	if negNumber.MatchString(arg) || strings.Contains(arg, " ") {
		return nil, nil
	}
	return &classified{flag: arg}, nil
}

// parseArgs parses one argument list (argv or GUNICORN_CMD_ARGS).
func parseArgs(args []string) (*parsed, error) {
	// Classify everything first, as argparse does, so an ambiguous option
	// anywhere is reported before anything else.
	kinds := make([]*classified, len(args))
	isOpt := make([]bool, len(args))
	dashdash := -1
	for i, a := range args {
		if a == "--" {
			dashdash = i
			break
		}
		c, err := classify(a)
		if err != nil {
			return nil, err
		}
		kinds[i], isOpt[i] = c, c != nil
	}
	isArg := func(i int) bool {
		return i < len(args) && (dashdash >= 0 && i > dashdash || !isOpt[i] && i != dashdash)
	}

	p := &parsed{}
	last := map[*Setting]int{}
	set := func(s *Setting, v any) {
		if i, ok := last[s]; ok {
			p.values[i].value = v
			return
		}
		last[s] = len(p.values)
		p.values = append(p.values, assignment{s, v})
	}
	appendTo := func(s *Setting, v string) {
		if i, ok := last[s]; ok {
			p.values[i].value = append(p.values[i].value.([]string), v)
			return
		}
		last[s] = len(p.values)
		p.values = append(p.values, assignment{s, []string{v}})
	}
	var extras []string
	positionalDone := false
	for i := 0; i < len(args); {
		if i == dashdash {
			i++
			continue
		}
		if isArg(i) {
			j := i
			for j < len(args) && (isArg(j) || j == dashdash) {
				if j != dashdash {
					if positionalDone {
						extras = append(extras, args[j])
					} else {
						p.positionals = append(p.positionals, args[j])
					}
				}
				j++
			}
			positionalDone = true
			i = j
			continue
		}
		c := kinds[i]
		i++
		if c.opt == nil {
			extras = append(extras, args[i-1])
			continue
		}
		for c != nil {
			o := c.opt
			next := (*classified)(nil)
			takesArg := o.kind == optSetting && (o.setting.Action == ActStore || o.setting.Action == ActAppend)
			if c.explicit != nil && !takesArg && (o.kind != optSetting || o.setting.Action != ActOptional) {
				// A bundled short flag (-DR): the rest is more flags.
				if len(c.flag) == 2 && c.flag[1] != '-' && *c.explicit != "" {
					nf := "-" + (*c.explicit)[:1]
					rest := (*c.explicit)[1:]
					no, ok := optIndex[nf]
					if !ok {
						return nil, usageError("argument %s: ignored explicit argument %s", o.name(), pytext.Repr(*c.explicit))
					}
					next = &classified{opt: no, flag: nf}
					if rest != "" {
						next.explicit = &rest
					}
				} else {
					return nil, usageError("argument %s: ignored explicit argument %s", o.name(), pytext.Repr(*c.explicit))
				}
			}
			switch o.kind {
			case optHelp:
				p.action = "help"
				return p, nil
			case optVersion:
				p.action = "version"
				return p, nil
			}
			s := o.setting
			switch s.Action {
			case ActStoreTrue:
				set(s, true)
			case ActStoreConst:
				set(s, s.Const)
			case ActOptional:
				var raw *string
				if c.explicit != nil {
					raw = c.explicit
				} else if isArg(i) {
					raw = &args[i]
					i++
				}
				if raw == nil {
					set(s, s.Const)
				} else {
					v, err := convert(o, *raw)
					if err != nil {
						return nil, err
					}
					set(s, v)
				}
			case ActStore, ActAppend:
				var raw string
				if c.explicit != nil {
					raw = *c.explicit
				} else if isArg(i) && i != dashdash {
					raw = args[i]
					i++
				} else {
					return nil, usageError("argument %s: expected one argument", o.name())
				}
				if s.Action == ActAppend {
					appendTo(s, raw)
					break
				}
				v, err := convert(o, raw)
				if err != nil {
					return nil, err
				}
				set(s, v)
			}
			c = next
		}
	}
	if len(extras) > 0 {
		return nil, usageError("unrecognized arguments: %s", strings.Join(extras, " "))
	}
	return p, nil
}

func convert(o *option, raw string) (any, error) {
	if o.setting.Conv == nil {
		return raw, nil
	}
	v, err := o.setting.Conv(raw)
	if err != nil {
		var ce errConv
		if errors.As(err, &ce) {
			return nil, usageError("argument %s: %s", o.name(), ce.Error())
		}
		return nil, usageError("argument %s: %v", o.name(), err)
	}
	return v, nil
}
