// Package config is gonicorn's single settings table and everything derived
// from it: the gunicorn-compatible command line (argparse behaviour and
// error texts), GUNICORN_CMD_ARGS, config-file values evaluated by Python,
// the precedence chain defaults < file < GUNICORN_CMD_ARGS < argv,
// worker-class resolution, --print-config, the START settings sent to the
// zygote, and docs/settings.md.
//
// Every setting is declared once in Table; nothing else lists settings.
package config

//go:generate go run ./gen -o ../../docs/settings.md
